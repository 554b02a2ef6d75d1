/*
 * Pure: turns a partner's statement lines (running balances per ledger entry) into balances at the
 * end of each day, week or month. No I/O; "today" is passed in.
 */

export type EarningsInterval = 'day' | 'week' | 'month';
export interface BucketAmounts {
  pending: number;
  payable: number;
  paid: number;
}
export interface BalanceLine {
  at: string;
  balance: BucketAmounts;
}
export interface EarningsPoint extends BucketAmounts {
  period: string;
}

/** The longest series returned: the newest buckets are kept. */
export const MAX_EARNINGS_POINTS = 400;

const DAY_MS = 86_400_000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** The first day (UTC) of the bucket holding `at`; weeks start on Monday. */
export function bucketStart(at: Date, interval: EarningsInterval): Date {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  if (interval === 'day') return day;
  if (interval === 'month') return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - sinceMonday * DAY_MS);
}

function nextBucket(start: Date, interval: EarningsInterval): Date {
  if (interval === 'day') return new Date(start.getTime() + DAY_MS);
  if (interval === 'week') return new Date(start.getTime() + 7 * DAY_MS);
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

/**
 * One point per bucket from the bucket before the first line's (all zeros: nothing was earned yet,
 * so even a first day draws a line from zero) to today's, each holding the balance after the last
 * entry up to the bucket's end (buckets without entries carry the previous balance forward).
 * `lines` must be in chain order, which is time order.
 */
export function earningsSeries(lines: readonly BalanceLine[], interval: EarningsInterval, now: Date): EarningsPoint[] {
  const first = lines[0];
  if (!first) return [];
  const points: EarningsPoint[] = [];
  const lastBucket = bucketStart(now, interval).getTime();
  let current: BucketAmounts = { pending: 0, payable: 0, paid: 0 };
  let index = 0;
  const firstBucket = bucketStart(new Date(first.at), interval);
  for (let start = bucketStart(new Date(firstBucket.getTime() - 1), interval); start.getTime() <= lastBucket; start = nextBucket(start, interval)) {
    const end = nextBucket(start, interval).getTime();
    while (index < lines.length && new Date(lines[index]!.at).getTime() < end) current = lines[index++]!.balance;
    points.push({ period: isoDay(start), ...current });
  }
  return points.slice(-MAX_EARNINGS_POINTS);
}
