import type { FastifyBaseLogger } from 'fastify';
import { RateLimiter } from '@tandem/core';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Limits, Services } from './http/context.js';
import { JobQueue } from './jobs/queue.js';
import { ApiKeyCache } from './http/api-key-cache.js';
import { StatisticsNudger } from './db/statistics.js';

export interface LimitPolicy {
  authPerIpPerMinute: number;
  authPerEmailPerMinute: number;
  apiPerKeyPerSecond: number;
}

export const defaultLimits: LimitPolicy = { authPerIpPerMinute: 30, authPerEmailPerMinute: 10, apiPerKeyPerSecond: 2000 };

export function makeLimits(policy: LimitPolicy): Limits {
  const perMinute = (n: number) => new RateLimiter({ capacity: n, refillPerSecond: n / 60 });
  return {
    authPerIp: perMinute(policy.authPerIpPerMinute),
    authPerEmail: perMinute(policy.authPerEmailPerMinute),
    apiPerKey: new RateLimiter({ capacity: policy.apiPerKeyPerSecond * 2, refillPerSecond: policy.apiPerKeyPerSecond }),
  };
}

export function makeServices(input: {
  config: Config;
  database: Database;
  secret: string;
  log: FastifyBaseLogger;
  now?: () => Date;
  limits?: LimitPolicy;
}): Services {
  const queue = new JobQueue(input.database.pool, {
    onError: (error, job) => input.log.error({ err: error, jobId: job?.id, queue: job?.queue }, 'job failed'),
  });
  return {
    config: input.config,
    dbKind: input.database.kind,
    pool: input.database.pool,
    db: input.database.db,
    secret: input.secret,
    now: input.now ?? (() => new Date()),
    log: input.log,
    queue,
    limits: makeLimits(input.limits ?? defaultLimits),
    apiKeys: new ApiKeyCache(input.database.pool),
    statistics: new StatisticsNudger(input.database.pool, input.log),
  };
}
