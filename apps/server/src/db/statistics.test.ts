import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/harness.js';
import { HOT_TABLES, refreshHotTableStatistics, StatisticsNudger } from './statistics.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

const lastAnalysed = async (table: string) =>
  (await ctx.pool.query<{ at: Date | null }>('select greatest(last_analyze, last_autoanalyze) as at from pg_stat_user_tables where relname = $1', [table])).rows[0]!.at;

/**
 * Cumulative statistics reach the views when a backend reports them; wait until they show. An idle
 * backend reports its pending counts only after PostgreSQL's idle interval (10 s), which a loaded
 * machine can reach: the wait allows for it.
 */
async function waitForModifications(table: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 15_000;
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

describe('statistics nudger', () => {
  it('looks at the statistics after enough conversions, at most once per interval, and analyses what doubled', async () => {
    await refreshHotTableStatistics(ctx.pool, 0); // start from fresh statistics everywhere
    let now = 1_000_000;
    const nudger = new StatisticsNudger(ctx.pool, undefined, { everyChanges: 3, minIntervalMs: 1000, nowMs: () => now });
    const before = await lastAnalysed('referrals');
    await ctx.pool.query(
      `insert into referrals (workspace_id, program_id, partner_id, customer_id, first_sale_id, first_sale_at, first_sale_amount)
       select 'ws_nudge', 'prg_nudge', 'ptn_nudge', 'cus_' || g, 'sal_' || g, now(), 100 from generate_series(1, 400) g`,
    );
    await waitForModifications('referrals', 400);

    nudger.noteChanges(2); // below everyChanges: no look
    await nudger.settled();
    expect(await lastAnalysed('referrals')).toEqual(before);

    nudger.noteChanges(); // the third: looks, and the table more than doubled
    await nudger.settled();
    const first = await lastAnalysed('referrals');
    expect(first).not.toBeNull();
    expect(first!.getTime()).toBeGreaterThan(before?.getTime() ?? 0);

    // Enough changes again, but within the interval: no look, whatever changed.
    await ctx.pool.query(
      `insert into referrals (workspace_id, program_id, partner_id, customer_id, first_sale_id, first_sale_at, first_sale_amount)
       select 'ws_nudge', 'prg_nudge', 'ptn_nudge', 'cus_b' || g, 'sal_b' || g, now(), 100 from generate_series(1, 800) g`,
    );
    await waitForModifications('referrals', 800);
    now += 500;
    nudger.noteChanges(3);
    await nudger.settled();
    expect(await lastAnalysed('referrals')).toEqual(first);

    // After the interval: a look, which analyses the table again (it doubled once more).
    now += 600;
    nudger.noteChanges(3);
    await nudger.settled();
    expect((await lastAnalysed('referrals'))!.getTime()).toBeGreaterThan(first!.getTime());
  });

  it('skips a refresh while another process holds the refresh lock', async () => {
    // Autovacuum analyses hot tables early (migration 0001): left on, it could analyse this one
    // between the wait and the refresh and leave the refresh nothing to do (a CI run failed so).
    await ctx.pool.query('alter table reward_events set (autovacuum_enabled = false)');
    await ctx.pool.query(
      `insert into reward_events (workspace_id, program_id, type, subject, payload)
       select 'ws_stats_lock', 'prg_stats', 'sale', 'sal_' || g, '{}'::jsonb from generate_series(1, 500) g`,
    );
    await waitForModifications('reward_events', 500);
    const holder = await ctx.pool.connect();
    try {
      await holder.query('select pg_advisory_lock(43, 0)');
      expect(await refreshHotTableStatistics(ctx.pool)).toEqual([]);
      await holder.query('select pg_advisory_unlock(43, 0)');
      expect(await refreshHotTableStatistics(ctx.pool)).toContain('reward_events');
    } finally {
      holder.release();
      await ctx.pool.query('alter table reward_events reset (autovacuum_enabled)');
    }
  });
});

describe('planner statistics targets (migrations 0009, 0010)', () => {
  const targets = async (table: string) => {
    const { rows } = await ctx.pool.query<{ attname: string; target: number | null }>(
      `select attname, attstattarget::int as target from pg_attribute
        where attrelid = $1::regclass and attnum > 0 and not attisdropped`,
      [table],
    );
    // PostgreSQL 15 stores "default" as -1, 17 and later as null.
    return Object.fromEntries(rows.map((r) => [r.attname, r.target === null || r.target < 0 ? 'default' : r.target]));
  };

  it('samples clicks only for the columns queries filter on, and skips payload columns of hot tables', async () => {
    const clicks = await targets('clicks');
    for (const column of ['workspace_id', 'program_id', 'partner_id', 'created_at']) expect(clicks[column]).toBe(10);
    for (const column of ['id', 'link_id', 'visitor_hash', 'ip_hash', 'country', 'device', 'browser', 'os', 'referrer_host', 'paid_click_param'])
      expect(clicks[column]).toBe(0);
    expect((await targets('commissions')).explanation).toBe(0);
    expect((await targets('commissions')).partner_id).toBe('default');
  });

  it('keeps the fraud velocity query on an index scan for a partner with few clicks', async () => {
    await ctx.pool.query(
      `insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at)
       select 'ws_plan', gen_random_uuid(), 'lnk_plan', 'prg_plan', 'ptn_' || (g % 500), now() - g * interval '1 second'
         from generate_series(1, 20000) g`,
    );
    await ctx.pool.query('analyze clicks');
    // The fraud velocity query's shape (modules/fraud/facts.ts), as a generic plan would see it.
    const { rows } = await ctx.pool.query<{ 'QUERY PLAN': string }>(
      `explain select count(*) filter (where ip_hash = 'x') as from_ip, count(*) filter (where link_id = 'lnk_plan') as on_link from clicks
        where workspace_id = 'ws_plan' and partner_id = 'ptn_7' and created_at > now() - interval '1 hour' and created_at <= now()`,
    );
    expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index (Only )?Scan using clicks_partner_idx|Bitmap Index Scan on clicks_partner_idx/);
  });
});
