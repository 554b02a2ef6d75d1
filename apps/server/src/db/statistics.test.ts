import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/harness.js';
import { HOT_TABLES, refreshHotTableStatistics } from './statistics.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

const lastAnalysed = async (table: string) =>
  (await ctx.pool.query<{ at: Date | null }>('select greatest(last_analyze, last_autoanalyze) as at from pg_stat_user_tables where relname = $1', [table])).rows[0]!.at;

/** Cumulative statistics reach the views when a backend reports them; wait until they show. */
async function waitForModifications(table: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { rows } = await ctx.pool.query<{ n: number }>('select n_mod_since_analyze::int as n from pg_stat_user_tables where relname = $1', [table]);
    if ((rows[0]?.n ?? 0) >= atLeast || Date.now() > deadline) return;
    await ctx.pool.query('select pg_stat_clear_snapshot()');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('hot table statistics', () => {
  it('analyses a hot table once enough of it changed, and leaves quiet tables alone', async () => {
    expect(HOT_TABLES).toContain('commissions');
    await refreshHotTableStatistics(ctx.pool); // whatever the template left behind
    const before = await lastAnalysed('reward_events');
    await ctx.pool.query(
      `insert into reward_events (workspace_id, program_id, type, subject, payload)
       select 'ws_stats', 'prg_stats', 'sale', 'sal_' || g, '{}'::jsonb from generate_series(1, 500) g`,
    );
    await waitForModifications('reward_events', 500);
    const analysed = await refreshHotTableStatistics(ctx.pool);
    expect(analysed).toContain('reward_events');
    expect(analysed).not.toContain('payouts');
    const after = await lastAnalysed('reward_events');
    expect(after).not.toBeNull();
    expect(after!.getTime()).toBeGreaterThan(before?.getTime() ?? 0);
    // Nothing changed since: nothing to do.
    await ctx.pool.query('select pg_stat_clear_snapshot()');
    expect(await refreshHotTableStatistics(ctx.pool)).not.toContain('reward_events');
  });
});
