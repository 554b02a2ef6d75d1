import type { Services } from '../../http/context.js';

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
}

/**
 * Deletes raw clicks older than the retention age (TANDEM_CLICK_RETENTION_DAYS). Hourly rollups
 * are kept, so dashboards and totals over older periods do not change. A click still inside its
 * program's attribution window is kept until the window closes, whatever the retention says: a
 * conversion in the window must find its click, and the default retention exceeds every window
 * (≤ 365 days) anyway. Clicks older than the longest window of all go in one plain range scan; only
 * the band between that and the retention age is checked against each click's program.
 */
export async function purgeExpiredClicks(services: Services): Promise<ClickPurge> {
  const now = services.now();
  const retentionDays = services.config.clickRetentionDays;
  const { rows } = await services.pool.query<{ days: number }>('select coalesce(max(attribution_window_days), 0)::int as days from programs');
  const longestAttributionWindowDays = rows[0]!.days;
  const cutoff = clickRetentionCutoff(now, retentionDays);
  const outsideEveryWindow = clickRetentionCutoff(now, Math.max(retentionDays, longestAttributionWindowDays));
  let deleted = await deleteClicksInBatches(services, 'c.created_at < $1', [outsideEveryWindow]);
  if (outsideEveryWindow < cutoff) {
    deleted += await deleteClicksInBatches(
      services,
      `c.created_at >= $1 and c.created_at < $2
       and not exists (select 1 from programs p where p.workspace_id = c.workspace_id and p.id = c.program_id
                          and c.created_at >= $3::timestamptz - make_interval(days => p.attribution_window_days))`,
      [outsideEveryWindow, cutoff, now],
    );
  }
  if (deleted > 0 || longestAttributionWindowDays > retentionDays) {
    services.log.info(
      { deleted, cutoff: cutoff.toISOString(), retentionDays, longestAttributionWindowDays },
      longestAttributionWindowDays > retentionDays
        ? 'purged expired raw clicks; clicks inside a program attribution window longer than the retention are kept until it closes'
        : 'purged expired raw clicks',
    );
  }
  return { deleted, retentionDays, longestAttributionWindowDays };
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
  });
  void services.queue.schedule(RETENTION_QUEUE, RETENTION_QUEUE, 3600).catch((error: unknown) => services.log.error({ err: error }, 'schedule failed'));
}
