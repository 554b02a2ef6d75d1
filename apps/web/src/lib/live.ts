import { useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { endpoints, type StreamMessage } from '@tandem/contracts';

export interface LiveEvent {
  id: string;
  type: StreamMessage['type'];
  data: StreamMessage['data'];
}

const listeners = new Set<(event: LiveEvent) => void>();

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
    const source = new EventSource(path, { withCredentials: true });
    let pending: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        void queryClient.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
      }, 250);
    };
    const onEvent = (message: MessageEvent<string>) => {
      const payload = JSON.parse(message.data) as StreamMessage;
      const event = { id: message.lastEventId, type: payload.type, data: payload.data };
      listeners.forEach((l) => l(event));
      refresh();
    };
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener('message', onEvent);
    return () => {
      clearTimeout(pending);
      source.close();
    };
  }, [enabled, path, queryClient]);
  return connected;
}
