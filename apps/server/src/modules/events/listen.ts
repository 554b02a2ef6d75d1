import type { Services } from '../../http/context.js';
import { listenOnChannel } from '../../db/listen.js';

export interface EventNotice {
  workspaceId: string;
  id: string;
  type: string;
}

/**
 * Listens for `pg_notify('tandem_events', …)` (sent by emitEvent when its transaction commits).
 * Notifications are a wake-up only: consumers must still read the outbox, because a notice sent
 * while disconnected is lost.
 */
export async function listenForEvents(services: Services, onEvent: (notice: EventNotice) => void): Promise<() => Promise<void>> {
  return listenOnChannel(services.pool.options, 'tandem_events', {
    log: services.log,
    onNotice(payload) {
      if (!payload) return;
      try {
        onEvent(JSON.parse(payload) as EventNotice);
      } catch (error) {
        services.log.warn({ err: error }, 'unreadable event notification');
      }
    },
  });
}
