import pg from 'pg';

const RECONNECT_MS = 1000;

export interface ChannelHandlers {
  /** A notification's payload (empty string when none was sent). */
  onNotice(payload: string): void;
  /**
   * The connection is (again) listening. Notices sent while it was down are lost, so whatever they
   * would have invalidated must be treated as unknown from here on.
   */
  onListening?(): void;
  /** The connection was lost; notices are not heard until onListening. */
  onDeaf?(): void;
  log: { warn(obj: unknown, message: string): void };
}

/**
 * LISTENs on one channel over a dedicated connection outside the pool (LISTEN belongs to a session),
 * reconnecting after errors. Returns the function that stops it.
 */
export async function listenOnChannel(poolOptions: pg.PoolConfig, channel: string, handlers: ChannelHandlers): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client(poolOptions);
    next.on('notification', (message) => {
      if (message.channel === channel) handlers.onNotice(message.payload ?? '');
    });
    next.on('error', (error) => {
      void next.end().catch(() => undefined);
      // A client not yet listening failed its connect or LISTEN, which its caller retries.
      if (client !== next) return;
      handlers.log.warn({ err: error, channel }, 'notification listener lost its connection; reconnecting');
      client = undefined;
      handlers.onDeaf?.();
      scheduleReconnect();
    });
    try {
      await next.connect();
      await next.query(`listen ${channel}`);
    } catch (error) {
      void next.end().catch(() => undefined);
      throw error;
    }
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
    handlers.onListening?.();
  };

  const scheduleReconnect = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((error: unknown) => {
        handlers.log.warn({ err: error, channel }, 'notification listener could not connect; retrying');
        scheduleReconnect();
      });
    }, RECONNECT_MS);
    retry.unref();
  };

  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const last = client;
    client = undefined;
    handlers.onDeaf?.();
    await last?.end().catch(() => undefined);
  };
}
