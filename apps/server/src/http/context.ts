import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Scope, Role } from '@tandem/contracts';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { JobQueue } from '../jobs/queue.js';
import type { RateLimiter } from '@tandem/core';
import type { ApiKeyCache } from './api-key-cache.js';
import type { StatisticsNudger } from '../db/statistics.js';

/** Everything a module needs from the outside world, passed in (never imported as globals). */
export interface Services {
  config: Config;
  dbKind: 'embedded' | 'external';
  pool: pg.Pool;
  db: Db;
  secret: string;
  /** The clock; tests inject their own. */
  now: () => Date;
  log: FastifyBaseLogger;
  queue: JobQueue;
  limits: Limits;
  /** Valid API keys, cached while revocations are heard (see ApiKeyCache). */
  apiKeys: ApiKeyCache;
  /** Keeps the hot tables' planner statistics fresh as conversions arrive (see StatisticsNudger). */
  statistics: StatisticsNudger;
}

export interface Limits {
  authPerIp: RateLimiter;
  authPerEmail: RateLimiter;
  apiPerKey: RateLimiter;
}

export type Auth =
  | {
      kind: 'session';
      sessionId: string;
      userId: string;
      workspaceId: string | null;
      role: Role | null;
      scopes: Scope[];
      csrfToken: string;
    }
  | { kind: 'api_key'; keyId: string; workspaceId: string; scopes: Scope[]; userId: null };

/** An authenticated caller acting inside a workspace. */
export type WorkspaceAuth = Auth & { workspaceId: string };

export const scopesForRole = (role: Role): Scope[] =>
  role === 'member' ? ['read', 'write'] : ['read', 'write', 'admin'];
