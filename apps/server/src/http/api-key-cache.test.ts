import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, signupActor, type TestContext } from '../test/harness.js';
import { openPool } from '../db/database.js';
import { hashToken } from '../security/crypto.js';
import { createApiKeyRow } from '../modules/accounts/accounts.js';
import { ApiKeyCache } from './api-key-cache.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

describe('the API key cache', () => {
  it('does not keep a key whose lookup was in flight when its revocation was heard', async () => {
    const actor = await signupActor(ctx.app);
    const key = await createApiKeyRow(ctx.pool, actor.workspaceId, 'race', ['admin'], null);
    const pool = openPool(ctx.databaseUrl, 2);
    const cache = new ApiKeyCache(pool);
    const stop = await cache.watch({ warn: () => undefined });
    try {
      // Count lookups that reach the database; hold the first until the revocation has been heard.
      let queries = 0;
      let releaseFirst: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (releaseFirst = resolve));
      const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
      (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
        queries += 1;
        const result = await query(...args);
        if (queries === 1) await held;
        return result;
      };
      const inFlight = cache.lookUp(hashToken(key.key));
      await new Promise((r) => setTimeout(r, 50));
      cache.forget(key.id); // what the listener does when the key is revoked meanwhile
      releaseFirst();
      expect((await inFlight)?.id).toBe(key.id); // read before the revocation: that answer stands
      await cache.lookUp(hashToken(key.key));
      expect(queries).toBe(2); // but it was not cached: the next call asks the database again
      await cache.lookUp(hashToken(key.key));
      expect(queries).toBe(2); // a lookup after the revocation is cached as usual
    } finally {
      await stop();
      await pool.end();
    }
  });
});
