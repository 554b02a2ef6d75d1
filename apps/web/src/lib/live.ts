import { useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { endpoints, type StreamMessage } from '@tandem/contracts';

export interface LiveEvent {
  id: string;
  type: StreamMessage['type'];
  data: StreamMessage['data'];
}

const listeners = new Set<(event: LiveEvent) => void>();

/** Back-off for reopening a stream the server refused (too many open streams, a restart). */
const RETRY_MIN_MS = 5_000;
const RETRY_MAX_MS = 60_000;

/** Screens that want the raw events (an activity feed) subscribe here. */
export function useLiveEvents(onEvent: (event: LiveEvent) => void) {
  const ref = useRef(onEvent);
  ref.current = onEvent;
  useEffect(() => {
    const listener = (e: LiveEvent) => ref.current(e);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
}

/**
 * Keeps every screen current without reload: the server streams the workspace's events
 * (sale.created, commission.created, clicks.recorded …) and each one refetches what is on screen.
 * Refetches are coalesced so a burst of events costs one round of requests.
 */
export function useLiveUpdates(enabled: boolean, path: string = endpoints.stream.path) {
  const queryClient = useQueryClient();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    let pending: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
      }, 250);
    };
    const close = keepStreamOpen(path, {
      onMessage: (message) => {
        const payload = JSON.parse(message.data) as StreamMessage;
        const event = { id: message.lastEventId, type: payload.type, data: payload.data };
        listeners.forEach((l) => l(event));
        refresh();
      },
      onConnected: setConnected,
    });
    return () => {
      clearTimeout(pending);
      close();
    };
  }, [enabled, path, queryClient]);
  return connected;
}

/** The part of EventSource the stream keeper uses (tests pass a fake). */
export interface StreamSource {
  readonly readyState: number;
  onopen: ((this: never, ev: Event) => unknown) | null;
  onerror: ((this: never, ev: Event) => unknown) | null;
  addEventListener(type: 'message', listener: (message: MessageEvent<string>) => void): void;
  close(): void;
}

const CLOSED = 2; // EventSource.CLOSED

/**
 * Opens an event stream and keeps it open. EventSource retries a dropped stream by itself, but
 * gives up for good on an answer that is not a stream (429 when this user has too many streams
 * open, 503 during a restart): then this opens a new one later, backing off from 5 s to 60 s, and
 * resumes after the last event seen. Returns the function that closes it for good.
 */
export function keepStreamOpen(
  path: string,
  handlers: { onMessage: (message: MessageEvent<string>) => void; onConnected: (connected: boolean) => void },
  open: (url: string) => StreamSource = (url) => new EventSource(url, { withCredentials: true }) as unknown as StreamSource,
): () => void {
  let source: StreamSource | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let retryDelayMs = RETRY_MIN_MS;
  let lastEventId = '';
  let closed = false;
  const connect = () => {
    const url = lastEventId ? `${path}${path.includes('?') ? '&' : '?'}lastEventId=${encodeURIComponent(lastEventId)}` : path;
    const opened = open(url);
    source = opened;
    opened.onopen = () => {
      retryDelayMs = RETRY_MIN_MS;
      handlers.onConnected(true);
    };
    opened.onerror = () => {
      handlers.onConnected(false);
      if (closed || opened.readyState !== CLOSED) return;
      retry = setTimeout(connect, retryDelayMs);
      retryDelayMs = Math.min(retryDelayMs * 2, RETRY_MAX_MS);
    };
    opened.addEventListener('message', (message) => {
      if (message.lastEventId) lastEventId = message.lastEventId;
      handlers.onMessage(message);
    });
  };
  connect();
  return () => {
    closed = true;
    clearTimeout(retry);
    source?.close();
  };
}
