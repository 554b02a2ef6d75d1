import type { Services } from '../../http/context.js';
import { listenOnChannel } from '../../db/listen.js';
import { EVENTS_CHANNEL } from './emit.js';

/**
 * Calls `onWake` whenever a transaction that stored outbox events commits, on any node (see
 * `wakeAfterCommit`). A wake-up carries no data and may stand for many events, or be lost while
 * the listener reconnects: consumers read the outbox, and poll as well.
 */
export async function listenForEvents(services: Services, onWake: () => void): Promise<() => Promise<void>> {
  return listenOnChannel(services.pool.options, EVENTS_CHANNEL, { log: services.log, onNotice: () => onWake() });
}
