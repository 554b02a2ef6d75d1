/**
 * A token bucket per key, pure apart from the Map it is given: the clock is passed in so tests can
 * drive it. Each node of a deployment keeps its own buckets (limits are per node), which is the
 * usual trade for not putting a database write on every request.
 */
export interface BucketPolicy {
  /** Most requests allowed in a burst. */
  capacity: number;
  /** Tokens restored per second. */
  refillPerSecond: number;
}

export interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export interface TakeResult {
  allowed: boolean;
  remaining: number;
  /** Seconds until one token is available again (0 when allowed). */
  retryAfterSeconds: number;
}

export function takeToken(bucket: Bucket | undefined, policy: BucketPolicy, nowMs: number): { bucket: Bucket; result: TakeResult } {
  const current = bucket ?? { tokens: policy.capacity, updatedAtMs: nowMs };
  const elapsed = Math.max(0, nowMs - current.updatedAtMs) / 1000;
  const tokens = Math.min(policy.capacity, current.tokens + elapsed * policy.refillPerSecond);
  if (tokens >= 1) {
    return {
      bucket: { tokens: tokens - 1, updatedAtMs: nowMs },
      result: { allowed: true, remaining: Math.floor(tokens - 1), retryAfterSeconds: 0 },
    };
  }
  const retryAfterSeconds = Math.ceil((1 - tokens) / policy.refillPerSecond);
  return { bucket: { tokens, updatedAtMs: nowMs }, result: { allowed: false, remaining: 0, retryAfterSeconds } };
}

/** Buckets for many keys with a bounded memory footprint (oldest keys evicted first). */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    private readonly policy: BucketPolicy,
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string, nowMs: number = Date.now()): TakeResult {
    const { bucket, result } = takeToken(this.buckets.get(key), this.policy, nowMs);
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return result;
  }

  reset(): void {
    this.buckets.clear();
  }
}
