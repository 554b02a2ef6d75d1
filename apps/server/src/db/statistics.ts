import type pg from 'pg';

/**
 * The tables that grow with every conversion and are read by key on its path (migration 0001 also
 * asks autovacuum to analyse these, and the rollups, clicks and jobs, after 2 % of change).
 */
export const HOT_TABLES = [
  'commissions', 'referrals', 'reward_events', 'ledger_entries', 'ledger_postings', 'ledger_heads', 'sales', 'leads',
  'customers', 'customer_touches', 'refunds', 'fraud_assessments', 'outbox_events',
] as const;

/**
 * Analyses the hot tables whose statistics are stale (changed by 2 % or 200 rows since the last
 * analyse), so plans stay right whatever the server's autovacuum settings. Without statistics the
 * planner cannot tell a unique index from a wide one — both look like "1 row" — and looked a sale's
 * commission up through the partner index, filtering the program's whole history: on an external
 * PostgreSQL with the default 60 s autovacuum naptime, ingest fell from 162 to 50 sales/s within
 * three minutes of a fresh install (bench/ingest, docs/benchmarks.md). Returns the tables analysed.
 */
export async function refreshHotTableStatistics(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ relname: string }>(
    `select relname from pg_stat_user_tables
      where schemaname = current_schema() and relname = any($1::text[])
        and n_mod_since_analyze >= greatest(200, 0.02 * n_live_tup)`,
    [HOT_TABLES],
  );
  const analysed: string[] = [];
  // The query above only returns names from HOT_TABLES, so they are safe to put in the statement.
  for (const { relname } of rows) {
    await pool.query(`analyze "${relname}"`);
    analysed.push(relname);
  }
  return analysed;
}
