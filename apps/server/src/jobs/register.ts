import type { Services } from '../http/context.js';
import { refreshHotTableStatistics } from '../db/statistics.js';
import { registerTermsGraceJob } from '../modules/partners/terms-grace.js';
import { registerWebhookJobs } from '../modules/webhooks/jobs.js';
import { registerRetentionJobs } from '../modules/privacy/retention.js';
import { registerDisputeJobs } from '../modules/disputes/jobs.js';
import { registerRewardJobs } from '../modules/rewards/jobs.js';
import { registerImportJobs } from '../modules/imports/record-conversion-import.js';
import { registerMailJobs } from '../modules/mail/mail.js';

/** Recurring housekeeping and every module's queues. Modules add their workers here. */
export function registerJobs(services: Services): void {
  const { queue, pool } = services;
  queue.register('jobs.cleanup', async () => {
    await pool.query(`delete from jobs where status in ('done','failed') and finished_at < now() - interval '7 days'`);
    await pool.query(`delete from sessions where expires_at < now()`);
  });
  void queue.schedule('jobs.cleanup', 'jobs.cleanup', 3600).catch((error: unknown) => services.log.error({ err: error }, 'schedule failed'));
  // Fresh statistics for the tables every conversion grows, whatever the server's autovacuum does.
  queue.register('db.statistics', async () => {
    await refreshHotTableStatistics(pool);
  });
  void queue.schedule('db.statistics', 'db.statistics', 15).catch((error: unknown) => services.log.error({ err: error }, 'schedule failed'));
  registerWebhookJobs(services);
  registerTermsGraceJob(services);
  registerRetentionJobs(services);
  registerDisputeJobs(services);
  registerRewardJobs(services);
  registerImportJobs(services);
  registerMailJobs(services);
}
