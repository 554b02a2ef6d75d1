import { afterEach, describe, expect, it, vi } from 'vitest';
import { keepStreamOpen, type StreamSource } from './live';

/** A stand-in for EventSource that the test drives: open, deliver, fail (closed for good or retrying). */
class FakeSource implements StreamSource {
  readyState = 0;
  onopen: StreamSource['onopen'] = null;
  onerror: StreamSource['onerror'] = null;
  closed = false;
  private readonly messageListeners: ((message: MessageEvent<string>) => void)[] = [];
  constructor(readonly url: string) {}
  addEventListener(_type: 'message', listener: (message: MessageEvent<string>) => void): void {
    this.messageListeners.push(listener);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  opens(): void {
    this.readyState = 1;
    (this.onopen as (() => void) | null)?.();
  }
  delivers(id: string): void {
    for (const listener of this.messageListeners) listener({ data: '{"type":"sale.created","data":{}}', lastEventId: id } as MessageEvent<string>);
  }
  fails(forGood: boolean): void {
    this.readyState = forGood ? 2 : 0;
    (this.onerror as (() => void) | null)?.();
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('keepStreamOpen', () => {
  it('reopens a stream the server refused, backing off, from the last event seen', () => {
    vi.useFakeTimers();
    const sources: FakeSource[] = [];
    const connected: boolean[] = [];
    const messages: string[] = [];
    const close = keepStreamOpen('/api/v1/stream', { onMessage: (m) => messages.push(m.lastEventId), onConnected: (c) => connected.push(c) }, (url) => {
      const source = new FakeSource(url);
      sources.push(source);
      return source;
    });
    expect(sources.map((s) => s.url)).toEqual(['/api/v1/stream']);
    sources[0]!.opens();
    sources[0]!.delivers('evt_1');
    // A dropped connection that EventSource retries itself: nothing new is opened.
    sources[0]!.fails(false);
    vi.advanceTimersByTime(120_000);
    expect(sources).toHaveLength(1);
    // Refused for good (say 429): reopened after 5 s, then 10 s, resuming after evt_1.
    sources[0]!.fails(true);
    vi.advanceTimersByTime(4_999);
    expect(sources).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sources[1]!.url).toBe('/api/v1/stream?lastEventId=evt_1');
    sources[1]!.fails(true);
    vi.advanceTimersByTime(9_999);
    expect(sources).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sources).toHaveLength(3);
    // An open stream resets the back-off.
    sources[2]!.opens();
    sources[2]!.fails(true);
    vi.advanceTimersByTime(5_000);
    expect(sources).toHaveLength(4);
    expect(messages).toEqual(['evt_1']);
    expect(connected).toEqual([true, false, false, false, true, false]);
    // Closing for good stops every retry.
    sources[3]!.fails(true);
    close();
    vi.advanceTimersByTime(120_000);
    expect(sources).toHaveLength(4);
    expect(sources[3]!.closed).toBe(true);
  });
});
