import type { FastifyInstance } from 'fastify';
import type { Services } from '../http/context.js';
import { createApiKeyRow, createWorkspace, revokeApiKeys } from '../modules/accounts/accounts.js';
import { withTransaction } from '../db/tx.js';
import { hashPassword } from '../security/crypto.js';
import { newId } from '@tandem/core';
import { BAKERY_EMAIL, CREATOR_EMAIL, DEMO_PASSWORD, seedDemoContent, type DemoContentSummary } from './content.js';

export { BAKERY_EMAIL, CREATOR_EMAIL, DEMO_PASSWORD } from './content.js';
export const DEMO_EMAIL = 'demo@tandem.local';
export const DEMO_WORKSPACE = 'Northwind Coffee';

/** Held for the whole seeding, so a CLI run and a starting server never seed side by side. */
const SEEDING_LOCK = 7_212_024;

export interface DemoResult {
  email: string;
  password: string;
  workspaceId: string;
  apiKey: string;
  /** Whether this run created the demo (false: it existed, only the key was refreshed). */
  created: boolean;
  /** What this run seeded; null when the demo content was already there. */
  content: DemoContentSummary | null;
  logins: { role: string; email: string; password: string }[];
}

/**
 * Idempotently creates the demo: the owner and its workspace, then (once) the demo content through
 * the API of `app`. Each run issues a fresh API key (keys are stored hashed, so an old one cannot
 * be shown again) and revokes the previous demo keys; a second run adds nothing else.
 */
export async function seedDemo(services: Services, app: FastifyInstance): Promise<DemoResult> {
  const lock = await services.pool.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [SEEDING_LOCK]);
    const owner = await ensureOwner(services);
    // The content is seeded once: a workspace with a program already has it.
    const seeded = await services.pool.query('select 1 from programs where workspace_id = $1 limit 1', [owner.workspaceId]);
    const content = seeded.rows.length === 0 ? await seedDemoContent(app, services, owner) : null;
    return {
      email: DEMO_EMAIL,
      password: DEMO_PASSWORD,
      workspaceId: owner.workspaceId,
      apiKey: owner.apiKey,
      created: owner.created,
      content,
      logins: [
        { role: `Brand (${DEMO_WORKSPACE})`, email: DEMO_EMAIL, password: DEMO_PASSWORD },
        { role: 'Brand (Bluebird Bakery)', email: BAKERY_EMAIL, password: DEMO_PASSWORD },
        { role: 'Partner portal (Casey Creator)', email: CREATOR_EMAIL, password: DEMO_PASSWORD },
      ],
    };
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [SEEDING_LOCK]).catch(() => undefined);
    lock.release();
  }
}

async function ensureOwner(services: Services): Promise<{ userId: string; workspaceId: string; apiKey: string; created: boolean }> {
  const owner = await withTransaction(services.pool, async (client) => {
    const existing = await client.query<{ id: string }>('select id from users where email = $1', [DEMO_EMAIL]);
    let userId = existing.rows[0]?.id;
    let workspaceId: string;
    let created = false;
    if (!userId) {
      userId = newId('usr');
      await client.query('insert into users (id, email, name, password_hash) values ($1, $2, $3, $4)', [
        userId,
        DEMO_EMAIL,
        'Dana Demo',
        await hashPassword(DEMO_PASSWORD),
      ]);
      workspaceId = (await createWorkspace(client, DEMO_WORKSPACE, userId)).id;
      created = true;
    } else {
      const ws = await client.query<{ workspace_id: string }>(
        `select workspace_id from memberships where user_id = $1 and role = 'owner' order by created_at limit 1`,
        [userId],
      );
      workspaceId = ws.rows[0]?.workspace_id ?? (await createWorkspace(client, DEMO_WORKSPACE, userId)).id;
    }
    const revoked = await revokeApiKeys(client, workspaceId, { name: 'Demo key' });
    const key = await createApiKeyRow(client, workspaceId, 'Demo key', ['read', 'write', 'admin'], userId);
    return { userId, workspaceId, apiKey: key.key, created, revoked };
  });
  // Every node forgets the revoked keys when their notification arrives; this one at once, so the
  // previous key stops working before seedDemo returns (as the revoke route does).
  for (const keyId of owner.revoked) services.apiKeys.forget(keyId);
  const { revoked: _revoked, ...result } = owner;
  return result;
}

/** The lines to show after seeding: where to sign in, as whom, and the fresh API key. */
export function demoLoginLines(demo: DemoResult, baseUrl: string): string[] {
  return [
    `Demo ready at ${baseUrl}${demo.content ? ` (seeded in ${(demo.content.ms / 1000).toFixed(1)} s: ${demo.content.partners} partners, ${demo.content.clicks} clicks, ${demo.content.leads} leads, ${demo.content.sales} sales, ${demo.content.refunds} refunds)` : ''}`,
    ...demo.logins.map((l) => `  ${l.role.padEnd(32)} ${l.email} / ${l.password}`),
    `  ${`API key (${DEMO_WORKSPACE})`.padEnd(32)} ${demo.apiKey}`,
  ];
}

/**
 * Start-up seeding (`TANDEM_DEMO`): `auto` seeds only into an empty database (no workspace at
 * all), `force` seeds (idempotently) whatever is there. Runs after the server listens.
 */
export async function seedDemoOnStart(services: Services, app: FastifyInstance, force: boolean): Promise<DemoResult | null> {
  if (!force) {
    const { rows } = await services.pool.query('select 1 from workspaces limit 1');
    if (rows.length > 0) return null;
  }
  const demo = await seedDemo(services, app);
  for (const line of demoLoginLines(demo, services.config.publicUrl ?? `http://localhost:${services.config.port}`)) services.log.info(line);
  return demo;
}
