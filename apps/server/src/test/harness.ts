import { inject } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { drizzle } from 'drizzle-orm/node-postgres';
import * as schema from '../db/schema.js';
import { openPool } from '../db/database.js';
import { loadConfig } from '../config.js';
import { buildApp } from '../app.js';
import { makeServices, type LimitPolicy } from '../services.js';
import type { Services } from '../http/context.js';
import { registerJobs } from '../jobs/register.js';

export interface TestContext {
  app: FastifyInstance;
  services: Services;
  pool: pg.Pool;
  databaseUrl: string;
  /** Moves the injected clock. */
  clock: { now: Date; set(d: Date | string): void; advance(ms: number): void };
  close(): Promise<void>;
}

const cloned: string[] = [];

/** A fresh database cloned from the migrated template (dropped at teardown). */
async function cloneTemplateDatabase(): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplate');
  const name = `tt_${process.ppid}_${process.pid}_${randomBytes(4).toString('hex')}`;
  // The global setup runs in the parent process; name databases after it so teardown finds them.
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  cloned.push(name);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh database cloned from the migrated template (or `databaseUrl`'s), and an in-process app on it. */
export async function createTestContext(
  options: { limits?: Partial<LimitPolicy>; env?: Record<string, string>; now?: Date; /** Another context's database: a second node on it. */ databaseUrl?: string } = {},
): Promise<TestContext> {
  const databaseUrl = options.databaseUrl ?? (await cloneTemplateDatabase());
  const config = loadConfig({ LOG_LEVEL: 'silent', TANDEM_DATA_DIR: '/tmp/tandem-test-unused', TANDEM_PUBLIC_URL: 'http://tandem.test', ...options.env });
  // The server's bound on idle transactions: a test that holds one open longer fails as production would.
  const pool = openPool(databaseUrl, 8, { idleInTransactionTimeoutMs: config.idleInTransactionTimeoutSeconds * 1000 });
  const clock = {
    now: options.now ?? new Date(),
    set(d: Date | string) {
      this.now = new Date(d);
    },
    advance(ms: number) {
      this.now = new Date(this.now.getTime() + ms);
    },
  };
  const log = pino({ level: 'silent' }) as never;
  const services = makeServices({
    config,
    database: { kind: inject('pgKind'), url: databaseUrl, pool, db: drizzle(pool, { schema }), close: async () => undefined },
    secret: 'test-secret-0123456789abcdef0123456789abcdef',
    log,
    now: options.now ? () => clock.now : () => new Date(),
    limits: { authPerIpPerMinute: 100_000, authPerEmailPerMinute: 100_000, apiPerKeyPerSecond: 100_000, ...options.limits },
  });
  registerJobs(services);
  const app = await buildApp(services, { validateResponses: true, serveWeb: false });
  await app.ready();
  return {
    app,
    services,
    pool,
    databaseUrl,
    clock,
    async close() {
      await app.close();
      await services.queue.stop();
      await services.statistics.settled();
      await pool.end();
    },
  };
}

export interface Actor {
  apiKey: string;
  cookie: string;
  csrf: string;
  userId: string;
  workspaceId: string;
  workspaceSlug: string;
  email: string;
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${randomBytes(3).toString('hex')}@example.com`;
}

export function cookieHeader(res: LightMyRequestResponse): string {
  return res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}

/** Signs up a new user with its workspace and returns every way to act as it. */
export async function signupActor(app: FastifyInstance, overrides: Partial<{ email: string; password: string; name: string; workspaceName: string }> = {}): Promise<Actor> {
  const email = overrides.email ?? uniqueEmail();
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/signup',
    payload: { email, password: overrides.password ?? 'correct horse battery', name: overrides.name ?? 'Test User', workspaceName: overrides.workspaceName ?? 'Test Brand' },
  });
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  const body = res.json<{ user: { id: string }; workspace: { id: string; slug: string }; apiKey: string; csrfToken: string }>();
  return { apiKey: body.apiKey, cookie: cookieHeader(res), csrf: body.csrfToken, userId: body.user.id, workspaceId: body.workspace.id, workspaceSlug: body.workspace.slug, email };
}

/** `app.inject` with the actor's API key. */
export function asKey(app: FastifyInstance, key: string) {
  return (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}
