import type { Services } from '../../http/context.js';

export const RETENTION_QUEUE = 'privacy.retention';
/** Rows deleted per statement: short transactions, no long lock on a table the redirect writes to. */
const PURGE_BATCH = 10_000;
const DAY_MS = 24 * 3600 * 1000;

/** The instant before which raw clicks are no longer kept. */
export function clickRetentionCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * DAY_MS);
}

/**
 * Deletes raw clicks older than the retention age (TANDEM_CLICK_RETENTION_DAYS). Hourly rollups
 * are kept, so dashboards and totals over older periods do not change; attribution of conversions
 * never looks back further than a program's window (≤ 365 days), which the default exceeds.
 * Returns how many clicks were deleted.
 */
export async function purgeExpiredClicks(services: Services): Promise<number> {
  const cutoff = clickRetentionCutoff(services.now(), services.config.clickRetentionDays);
  let deleted = 0;
  for (;;) {
    const { rowCount } = await services.pool.query(
      `delete from clicks where ctid = any(array(select ctid from clicks where created_at < $1 limit $2))`,
      [cutoff, PURGE_BATCH],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < PURGE_BATCH) break;
  }
  if (deleted > 0) services.log.info({ deleted, cutoff: cutoff.toISOString() }, 'purged expired raw clicks');
  return deleted;
}

export function registerRetentionJobs(services: Services): void {
  services.queue.register(RETENTION_QUEUE, async () => {
    await purgeExpiredClicks(services);
  });
  void services.queue.schedule(RETENTION_QUEUE, RETENTION_QUEUE, 3600).catch((error: unknown) => services.log.error({ err: error }, 'schedule failed'));
}
