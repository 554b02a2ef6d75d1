import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { LinkCache } from './link-cache.js';

/*
 * The cache's own rules, on a stand-in pool whose answers the test releases one by one (the cache
 * end to end, with LISTEN/NOTIFY, is in redirect.test.ts).
 */

const row = (destination: string) => ({
  workspace_id: 'ws_1', id: 'lnk_1', program_id: 'prg_1', partner_id: 'ptn_1', destination_url: destination, archived_at: null, attribution_window_days: 30,
});

/** A pool whose every query waits until the test answers it, in order. */
function heldPool() {
  const waiting: ((rows: unknown[]) => void)[] = [];
  const pool = { query: () => new Promise<{ rows: unknown[] }>((resolve) => waiting.push((rows) => resolve({ rows }))) } as unknown as pg.Pool;
  return { pool, waiting };
}

describe('LinkCache', () => {
  it('a request after an invalidation does not join a load that began before it', async () => {
    const { pool, waiting } = heldPool();
    const cache = new LinkCache(pool);
    const before = cache.load('abc');
    // The link changes (say, a new destination) while that load is under way.
    cache.invalidate('abc');
    const after = cache.load('abc');
    expect(after).not.toBe(before);
    expect(waiting).toHaveLength(2);
    waiting[0]!([row('https://old.example/')]);
    waiting[1]!([row('https://new.example/')]);
    expect((await before)?.destination.base).toBe('https://old.example/');
    expect((await after)?.destination.base).toBe('https://new.example/');
    // Only the load that began after the change is kept.
    expect(cache.peek('abc')?.destination.base).toBe('https://new.example/');
  });

  it('concurrent requests for one key share one load', async () => {
    const { pool, waiting } = heldPool();
    const cache = new LinkCache(pool);
    const first = cache.load('k');
    expect(cache.load('k')).toBe(first);
    waiting[0]!([]);
    expect(await first).toBeNull();
    expect(waiting).toHaveLength(1);
    expect(cache.peek('k')).toBeNull();
  });
});
