import pg from 'pg';
import type { Services } from '../../http/context.js';

export interface EventNotice {
  workspaceId: string;
  id: string;
  type: string;
}

const RECONNECT_MS = 1000;

/**
 * Listens for `pg_notify('tandem_events', …)` (sent by emitEvent when its transaction commits) on a
 * dedicated connection outside the pool, reconnecting after errors. Notifications are a wake-up
 * only: consumers must still read the outbox, because a notice sent while disconnected is lost.
 */
export async function listenForEvents(services: Services, onEvent: (notice: EventNotice) => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client(services.pool.options);
    next.on('notification', (message) => {
      if (message.channel !== 'tandem_events' || !message.payload) return;
      try {
        onEvent(JSON.parse(message.payload) as EventNotice);
      } catch (error) {
        services.log.warn({ err: error }, 'unreadable event notification');
      }
    });
    next.on('error', (error) => {
      services.log.warn({ err: error }, 'event listener connection lost; reconnecting');
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      scheduleReconnect();
    });
    await next.connect();
    await next.query('listen tandem_events');
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
  };

  const scheduleReconnect = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((error: unknown) => {
        services.log.warn({ err: error }, 'event listener could not connect; retrying');
        scheduleReconnect();
      });
    }, RECONNECT_MS);
    retry.unref();
  };

  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => undefined);
    client = undefined;
  };
}
