/**
 * When to try a failed delivery again. The first attempt is immediate; after each failure the
 * next one waits the delay below, ±20 % jitter so that endpoints coming back from an outage are
 * not hit by every queued delivery in the same second. The delays add up to ~27 h, so a receiver
 * that is down for up to a day still gets everything.
 */
export const RETRY_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600] as const;

/** Attempts in total: the immediate one plus one per delay. */
export const MAX_DELIVERY_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

export const JITTER = 0.2;

/**
 * The time of the next attempt after `failedAttempts` failures, or null when the delivery has
 * used all its attempts.
 */
export function nextAttemptAt(failedAttempts: number, now: Date, random: () => number = Math.random): Date | null {
  const delay = RETRY_DELAYS_SECONDS[failedAttempts - 1];
  if (delay === undefined) return null;
  const factor = 1 - JITTER + random() * 2 * JITTER;
  return new Date(now.getTime() + Math.round(delay * factor * 1000));
}
