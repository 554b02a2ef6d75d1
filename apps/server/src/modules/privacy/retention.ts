import type { Services } from '../../http/context.js';
import { purgeExpiredPendingRefunds } from '../stripe/refunds.js';

export const RETENTION_QUEUE = 'privacy.retention';
/** Rows deleted per statement: short transactions, no long lock on a table the redirect writes to. */
const PURGE_BATCH = 10_000;
const DAY_MS = 24 * 3600 * 1000;

/** The instant before which raw clicks are no longer kept. */
export function clickRetentionCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * DAY_MS);
}

export interface ClickPurge {
  deleted: number;
  /** TANDEM_CLICK_RETENTION_DAYS. */
  retentionDays: number;
  /** The longest attribution window of any program: clicks are kept that long at least, where it applies. */
  longestAttributionWindowDays: number;
  /**
   * The previous run's time when this run looked only at clicks that can have expired since; null
   * when it looked at every click (the first run, or a keep age shrank since the previous one).
   */
  sincePreviousRun: Date | null;
}

/**
 * `"<workspaceId>/<programId>"` → attribution window in days, for the programs whose window is longer
 * than the retention: their clicks are kept for the window, every other click for the retention.
 */
type LongerWindows = Record<string, number>;

interface RetentionRun {
  ranAt: Date;
  retentionDays: number;
  longerWindows: LongerWindows;
}

const CLICKS_RUN = 'clicks';

/**
 * Deletes raw clicks older than their keep age: the retention age (TANDEM_CLICK_RETENTION_DAYS), or
 * their program's attribution window where that is longer, so a conversion occurring now still finds
 * any click its window reaches. A conversion reported with an earlier `occurredAt` (tracking API,
 * imports) looks back from then, so a click it needs may already be gone if it is older than the
 * retention. Hourly rollups are kept: dashboards and totals over older periods do not change.
 *
 * Clicks are grouped by keep age: the retention, and each distinct longer window. Those past the
 * longest keep age all go, in one plain range scan. For a shorter keep age K, only clicks created in
 * [previous run − K, now − K) can have expired since the previous run, which deleted the older ones;
 * the clicks it kept are not read again, however many. That holds while no keep age has shrunk (a
 * shorter retention, a program's window shortened); then, and on the first run, the whole band
 * between the retention age and the longest window is read once. A click written later with a date
 * older than the previous run reached (demo seeding) goes once it is past the longest window.
 */
export async function purgeExpiredClicks(services: Services): Promise<ClickPurge> {
  const now = services.now();
  const retentionDays = services.config.clickRetentionDays;
  const { rows } = await services.pool.query<{ longest: number; longer: LongerWindows }>(
    `select coalesce(max(attribution_window_days), 0)::int as longest,
            coalesce(jsonb_object_agg(workspace_id || '/' || id, attribution_window_days) filter (where attribution_window_days > $1), '{}') as longer
       from programs`,
    [retentionDays],
  );
  const { longest: longestAttributionWindowDays, longer: longerWindows } = rows[0]!;
  const previous = await previousRun(services);
  const sincePreviousRun = previous && !keepAgeShrank(previous, retentionDays, longerWindows) ? previous.ranAt : null;

  const keepAges = [retentionDays, ...new Set(Object.values(longerWindows).sort((a, b) => a - b))];
  let deleted = 0;
  for (const [i, keptDays] of keepAges.entries()) {
    const expiredBefore = clickRetentionCutoff(now, keptDays);
    const nextKeepAge = keepAges[i + 1];
    if (nextKeepAge === undefined) {
      deleted += await deleteClicksInBatches(services, 'c.created_at < $1', [expiredBefore]);
      continue;
    }
    // Older clicks are in the next keep age's range, which takes every click this one would.
    const nextRangeEnd = clickRetentionCutoff(now, nextKeepAge);
    const previousRunEnd = sincePreviousRun ? clickRetentionCutoff(sincePreviousRun, keptDays) : nextRangeEnd;
    const from = previousRunEnd > nextRangeEnd ? previousRunEnd : nextRangeEnd;
    deleted += await deleteClicksInBatches(
      services,
      `c.created_at >= $1 and c.created_at < $2
       and not exists (select 1 from programs p where p.workspace_id = c.workspace_id and p.id = c.program_id and p.attribution_window_days > $3)`,
      [from, expiredBefore, keptDays],
    );
  }
  await services.pool.query(
    `insert into retention_runs (name, ran_at, retention_days, longer_windows) values ($1, $2, $3, $4)
     on conflict (name) do update set ran_at = excluded.ran_at, retention_days = excluded.retention_days, longer_windows = excluded.longer_windows`,
    [CLICKS_RUN, now, retentionDays, JSON.stringify(longerWindows)],
  );

  const cutoff = clickRetentionCutoff(now, retentionDays);
  if (deleted > 0 || longestAttributionWindowDays > retentionDays) {
    services.log.info(
      { deleted, cutoff: cutoff.toISOString(), retentionDays, longestAttributionWindowDays, sincePreviousRun: sincePreviousRun?.toISOString() ?? null },
      longestAttributionWindowDays > retentionDays
        ? 'purged expired raw clicks; clicks of a program whose attribution window is longer than the retention are kept for the window'
        : 'purged expired raw clicks',
    );
  }
  return { deleted, retentionDays, longestAttributionWindowDays, sincePreviousRun };
}

async function previousRun(services: Services): Promise<RetentionRun | null> {
  const { rows } = await services.pool.query<{ ran_at: Date; retention_days: number; longer_windows: LongerWindows }>(
    'select ran_at, retention_days, longer_windows from retention_runs where name = $1',
    [CLICKS_RUN],
  );
  const row = rows[0];
  return row ? { ranAt: row.ran_at, retentionDays: row.retention_days, longerWindows: row.longer_windows } : null;
}

/** Whether some click's keep age is shorter now than in the previous run (its range moved back). */
function keepAgeShrank(previous: RetentionRun, retentionDays: number, longerWindows: LongerWindows): boolean {
  if (retentionDays < previous.retentionDays) return true;
  return Object.entries(previous.longerWindows).some(([program, days]) => Math.max(retentionDays, longerWindows[program] ?? 0) < days);
}

async function deleteClicksInBatches(services: Services, condition: string, params: unknown[]): Promise<number> {
  let deleted = 0;
  const limit = `$${params.length + 1}`;
  for (;;) {
    const { rowCount } = await services.pool.query(
      `delete from clicks where ctid = any(array(select c.ctid from clicks c where ${condition} limit ${limit}))`,
      [...params, PURGE_BATCH],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < PURGE_BATCH) return deleted;
  }
}

export function registerRetentionJobs(services: Services): void {
  services.queue.register(RETENTION_QUEUE, async () => {
    await purgeExpiredClicks(services);
    // Stripe refunds whose sale never came (stripe/refunds.ts): one row per event, kept 30 days.
    await purgeExpiredPendingRefunds(services);
  });
  void services.queue.schedule(RETENTION_QUEUE, RETENTION_QUEUE, 3600).catch((error: unknown) => services.log.error({ err: error }, 'schedule failed'));
}
