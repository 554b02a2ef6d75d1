import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst of capacity, then refuses with a retry-after, then refills', () => {
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 1 });
    const t = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take('ip', t).allowed)).toEqual([true, true, true]);
    const refused = limiter.take('ip', t);
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('other', t).allowed).toBe(true);
    expect(limiter.take('ip', t + 1000).allowed).toBe(true);
  });

  it('evicts the oldest keys past its bound', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 0.001 }, 2);
    limiter.take('a', 0);
    limiter.take('b', 0);
    limiter.take('c', 0);
    expect(limiter.take('a', 0).allowed).toBe(true); // a was evicted, so it starts full again
    expect(limiter.take('c', 0).allowed).toBe(false);
  });
});
