import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';

/**
 * The tables that grow with every conversion and are read by key on its path (migration 0001 also
 * asks autovacuum to analyse these, and the rollups, clicks and jobs, after 2 % of change).
 */
export const HOT_TABLES = [
  'commissions', 'referrals', 'reward_events', 'ledger_entries', 'ledger_postings', 'ledger_heads', 'sales', 'leads',
  'customers', 'customer_touches', 'refunds', 'fraud_assessments', 'outbox_events',
] as const;

/** Two processes analysing at once would analyse each table twice; the second one skips instead. */
const REFRESH_LOCK = [43, 0] as const;

/**
 * Analyses the hot tables whose statistics are stale (changed by `fraction` of their rows, and at
 * least 200, since the last analyse), so plans stay right whatever the server's autovacuum settings.
 * Without statistics the planner cannot tell a unique index from a wide one — both look like
 * "1 row" — and looked a sale's commission up through the partner index, filtering the program's
 * whole history: on an external PostgreSQL with the default 60 s autovacuum naptime, ingest fell
 * from 162 to 50 sales/s within three minutes of a fresh install (bench/ingest, docs/benchmarks.md).
 * Returns the tables analysed (none when another process is refreshing right now).
 */
export async function refreshHotTableStatistics(pool: pg.Pool, fraction = 0.02): Promise<string[]> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    const { rows: locked } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [...REFRESH_LOCK]);
    if (!locked[0]!.ok) return [];
    try {
      const { rows } = await client.query<{ relname: string }>(
        `select relname from pg_stat_user_tables
          where schemaname = current_schema() and relname = any($1::text[])
            and n_mod_since_analyze >= greatest(200, $2::float8 * n_live_tup)`,
        [HOT_TABLES, fraction],
      );
      const analysed: string[] = [];
      // The query above only returns names from HOT_TABLES, so they are safe to put in the statement.
      // SKIP_LOCKED: a table another session holds (VACUUM, CREATE INDEX CONCURRENTLY) waits for the next look.
      for (const { relname } of rows) {
        await client.query(`analyze (skip_locked) "${relname}"`);
        analysed.push(relname);
      }
      return analysed;
    } finally {
      try {
        await client.query('select pg_advisory_unlock($1, $2)', [...REFRESH_LOCK]);
      } catch (error) {
        // Still holding the session lock: this connection must be closed, not pooled, or every
        // later refresh in every process would skip until it closed.
        broken = error;
      }
    }
  } catch (error) {
    broken ??= error;
    throw error;
  } finally {
    client.release(broken === undefined ? undefined : broken instanceof Error ? broken : true);
  }
}

export interface StatisticsNudgeOptions {
  /** Conversions recorded by this process before it looks at the statistics again. */
  everyChanges?: number;
  /** The shortest time between two looks. */
  minIntervalMs?: number;
  /**
   * The share of a table that must have changed since its last analyse: 50 %, i.e. an insert-only
   * table has doubled. Plans go wrong when statistics describe a nearly empty table, not when they
   * are a few percent old, and analysing `commissions` costs ~100 ms once it holds 10,000 rows: a
   * 10 % rule analysed it 13 times in one benchmark and cost more than the bad plans it prevented.
   */
  fraction?: number;
  nowMs?: () => number;
}

/**
 * Refreshes the hot tables' statistics as conversions arrive, not only on the 15-second schedule.
 * A prepared statement keeps the generic plan it was given until its tables are analysed again, so
 * the plans a fresh install makes in its first seconds — when every table is empty and every index
 * looks alike — stayed in use until the next scheduled analyse: measured on an external PostgreSQL,
 * a sale's statements read 2,000–3,000 buffers each instead of ~60 (a customer found by id through
 * the external-id index, a commission by key through the sale index), and the first round of
 * bench/ingest ran at 259 attributed sales/s against 662–693 for the next two. Called after each
 * recorded conversion; at most one look per second, in the background, errors logged.
 */
export class StatisticsNudger {
  private changes = 0;
  private lastLookMs = Number.NEGATIVE_INFINITY;
  private looking: Promise<void> | undefined;
  private readonly everyChanges: number;
  private readonly minIntervalMs: number;
  private readonly fraction: number;
  private readonly nowMs: () => number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: FastifyBaseLogger | undefined,
    options: StatisticsNudgeOptions = {},
  ) {
    this.everyChanges = options.everyChanges ?? 200;
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.fraction = options.fraction ?? 0.5;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Counts `n` recorded conversions; may start a look at the statistics (never waits for it). */
  noteChanges(n = 1): void {
    this.changes += n;
    if (this.looking || this.changes < this.everyChanges) return;
    const now = this.nowMs();
    if (now - this.lastLookMs < this.minIntervalMs) return;
    this.lastLookMs = now;
    this.changes = 0;
    this.looking = refreshHotTableStatistics(this.pool, this.fraction)
      .then((analysed) => {
        if (analysed.length > 0) this.log?.debug({ analysed }, 'hot table statistics refreshed');
      })
      .catch((error: unknown) => this.log?.warn({ err: error }, 'refreshing hot table statistics failed'))
      .finally(() => {
        this.looking = undefined;
      });
  }

  /** The look in progress, if any (tests, shutdown). */
  async settled(): Promise<void> {
    await this.looking;
  }
}
