import type { Services } from '../../http/context.js';
import { runDisputeDeadlines } from './disputes.js';

export const DISPUTE_DEADLINES_QUEUE = 'disputes.deadlines';

/** The deadline sweep runs every five minutes: a dispute is escalated or auto-decided within that. */
export function registerDisputeJobs(services: Services): void {
  services.queue.register(DISPUTE_DEADLINES_QUEUE, async () => {
    const { escalated, decided } = await runDisputeDeadlines(services);
    if (escalated + decided > 0) services.log.info({ escalated, decided }, 'dispute deadlines');
  });
  void services.queue.schedule(DISPUTE_DEADLINES_QUEUE, DISPUTE_DEADLINES_QUEUE, 300).catch((error: unknown) => services.log.error({ err: error }, 'schedule failed'));
}
