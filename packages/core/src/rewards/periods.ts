import type { Period } from '@tandem/contracts';

/*
 * Calendar periods in UTC (rewards.md: "All periods are calendar periods in UTC"). A period is the
 * half-open interval [start, next start).
 */

export function periodStart(period: Period, t: Date): Date {
  const year = t.getUTCFullYear();
  const month = t.getUTCMonth();
  if (period === 'year') return new Date(Date.UTC(year, 0, 1));
  if (period === 'quarter') return new Date(Date.UTC(year, month - (month % 3), 1));
  return new Date(Date.UTC(year, month, 1));
}

export function periodEnd(period: Period, t: Date): Date {
  const start = periodStart(period, t);
  const months = period === 'year' ? 12 : period === 'quarter' ? 3 : 1;
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + months, 1));
}

/** `2026-01`, `2026-Q1` or `2026`: names the period containing `t`, used in idempotency keys. */
export function periodKey(period: Period, t: Date): string {
  const year = t.getUTCFullYear();
  if (period === 'year') return String(year);
  if (period === 'quarter') return `${year}-Q${Math.floor(t.getUTCMonth() / 3) + 1}`;
  return `${year}-${String(t.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function inPeriod(period: Period, containing: Date, t: Date): boolean {
  return t >= periodStart(period, containing) && t < periodEnd(period, containing);
}

/**
 * `t` plus `months` calendar months in UTC, time of day kept. When the target month is shorter the
 * day is clamped to its last day (Jan 31 + 1 month = Feb 28/29), the convention of PostgreSQL's
 * `interval '1 month'`, so SQL and this function agree.
 */
export function addCalendarMonths(t: Date, months: number): Date {
  const year = t.getUTCFullYear();
  const month = t.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(t.getUTCDate(), lastDay);
  return new Date(Date.UTC(year, month, day, t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(), t.getUTCMilliseconds()));
}

export function addDays(t: Date, days: number): Date {
  return new Date(t.getTime() + days * 86_400_000);
}
