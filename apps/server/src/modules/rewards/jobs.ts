import type { Services } from '../../http/context.js';
import { runMaturity } from './maturity.js';

/** The maturity process for every workspace, every minute (also `POST /api/v1/jobs/mature`). */
export function registerRewardJobs(services: Services): void {
  services.queue.register('rewards.mature', async () => {
    const now = services.now();
    await runMaturity(services.pool, now, now, null);
  });
  void services.queue.schedule('rewards.mature', 'rewards.mature', 60).catch((error: unknown) => services.log.error({ err: error }, 'schedule failed'));
}
