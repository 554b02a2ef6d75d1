import type { Services } from '../../http/context.js';
import { listenOnChannel } from '../../db/listen.js';
import { EVENTS_CHANNEL } from '../events/emit.js';
import { deliverDueWebhooks, dispatchOutboxEvents } from './deliveries.js';
import { DELIVER_QUEUE, DISPATCH_QUEUE } from './endpoints.js';

/** Fallback polling when a notification is missed (a listener reconnecting, another node's event). */
const POLL_SECONDS = 10;
const RETRY_WAKE_MS = 250;
const WAKE_COALESCE_MS = 50;

export function registerWebhookJobs(services: Services): void {
  const { queue } = services;
  queue.register(DISPATCH_QUEUE, async () => {
    const created = await dispatchOutboxEvents(services);
    // No unique key here: a deliver job that is already running may have made its last claim
    // before these deliveries existed, and a unique key would fold this wake-up into it.
    if (created > 0) await queue.enqueue(DELIVER_QUEUE);
  });
  queue.register(DELIVER_QUEUE, async () => {
    await deliverDueWebhooks(services);
  });
  for (const name of [DISPATCH_QUEUE, DELIVER_QUEUE]) {
    void queue.schedule(name, name, POLL_SECONDS).catch((error: unknown) => services.log.error({ err: error }, 'schedule failed'));
  }
}

/**
 * Wakes the dispatcher as soon as an event commits (the wake-up withTransaction sends), so deliveries start
 * within about a second rather than at the next poll. Returns a function that stops listening.
 */
export async function startWebhookWakeups(services: Services): Promise<() => Promise<void>> {
  let retry: NodeJS.Timeout | undefined;
  let pending: NodeJS.Timeout | undefined;
  let stopped = false;
  // A burst of events (hundreds of sales a second) needs one dispatcher wake-up, not one job insert
  // per event: notifications arriving within WAKE_COALESCE_MS are folded into a single wake.
  const wakeSoon = (): void => {
    if (pending || stopped) return;
    pending = setTimeout(() => {
      pending = undefined;
      wake();
    }, WAKE_COALESCE_MS);
    pending.unref();
  };
  const wake = (): void => {
    services.queue
      .enqueue(DISPATCH_QUEUE, {}, { uniqueKey: DISPATCH_QUEUE })
      .then((jobId) => {
        // A dispatcher is already queued or running. If it is running it may have read the
        // outbox before this event committed, so knock again shortly, until a new job is queued.
        if (jobId === null && !retry && !stopped) {
          retry = setTimeout(() => {
            retry = undefined;
            wake();
          }, RETRY_WAKE_MS);
          retry.unref();
        }
      })
      .catch((error: unknown) => services.log.error({ err: error }, 'webhook wake-up failed'));
  };
  // A wake-up carries no data and may stand for many events, or be lost while reconnecting: the
  // dispatcher reads the outbox, and polls as well.
  const stopListening = await listenOnChannel(services.pool.options, EVENTS_CHANNEL, { log: services.log, onNotice: wakeSoon });
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    if (pending) clearTimeout(pending);
    await stopListening();
  };
}
