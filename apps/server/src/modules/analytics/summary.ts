import type pg from 'pg';
import { ApiError } from '@tandem/contracts';

/*
 * The dashboard summary: clicks from `click_rollups` (per link per hour) and conversions from
 * `conversion_rollups` (per program, partner, day, currency), folded into one series per UTC day.
 * Neither raw clicks nor raw conversions are scanned.
 */

export const MAX_SUMMARY_DAYS = 366;

type Money = { currency: string; amount: number }[];
interface Bucket {
  date: string;
  clicks: number;
  leads: number;
  sales: number;
  revenue: Money;
  refunds: number;
  refundedAmount: Money;
}

export interface SummaryQuery {
  programId?: string | undefined;
  partnerId?: string | undefined;
  from: string;
  to: string;
}

const addTo = (money: Money, currency: string, amount: number) => {
  if (!amount) return;
  const entry = money.find((m) => m.currency === currency);
  if (entry) entry.amount += amount;
  else money.push({ currency, amount });
};

export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Folds rollup rows into the response: per-day buckets, totals, conversion rates and EPC. */
export function foldSummary(
  q: SummaryQuery,
  clickRows: { day: string; clicks: number }[],
  conversionRows: {
    day: string;
    currency: string;
    leads: number;
    sales: number;
    revenue: number;
    refunds: number;
    refunded_amount: number;
  }[],
) {
  const series = new Map<string, Bucket>(
    daysBetween(q.from, q.to).map((date) => [date, { date, clicks: 0, leads: 0, sales: 0, revenue: [], refunds: 0, refundedAmount: [] }]),
  );
  for (const r of clickRows) {
    const b = series.get(r.day);
    if (b) b.clicks += r.clicks;
  }
  for (const r of conversionRows) {
    const b = series.get(r.day);
    if (!b) continue;
    b.leads += r.leads;
    b.sales += r.sales;
    b.refunds += r.refunds;
    addTo(b.revenue, r.currency, r.revenue);
    addTo(b.refundedAmount, r.currency, r.refunded_amount);
  }
  const totals = { clicks: 0, leads: 0, sales: 0, revenue: [] as Money, refunds: 0, refundedAmount: [] as Money };
  for (const b of series.values()) {
    totals.clicks += b.clicks;
    totals.leads += b.leads;
    totals.sales += b.sales;
    totals.refunds += b.refunds;
    for (const m of b.revenue) addTo(totals.revenue, m.currency, m.amount);
    for (const m of b.refundedAmount) addTo(totals.refundedAmount, m.currency, m.amount);
  }
  const perClick = (n: number) => (totals.clicks ? Math.round((n / totals.clicks) * 10_000) / 10_000 : null);
  const epc = totals.clicks
    ? totals.revenue.map((m) => ({
        currency: m.currency,
        amount: Math.round((m.amount - (totals.refundedAmount.find((r) => r.currency === m.currency)?.amount ?? 0)) / totals.clicks),
      }))
    : [];
  return {
    from: q.from,
    to: q.to,
    interval: 'day' as const,
    totals: { ...totals, conversionRate: perClick(totals.sales), leadRate: perClick(totals.leads), epc },
    series: [...series.values()],
  };
}

export async function analyticsSummary(pool: pg.Pool, workspaceId: string, q: SummaryQuery) {
  if (q.from > q.to)
    throw new ApiError('unprocessable', '`from` must not be after `to`', [{ path: 'from', message: 'must not be after to' }]);
  if (daysBetween(q.from, q.to).length > MAX_SUMMARY_DAYS)
    throw new ApiError('unprocessable', `At most ${MAX_SUMMARY_DAYS} days per summary`, [
      { path: 'to', message: `must be at most ${MAX_SUMMARY_DAYS} days after from` },
    ]);
  const params = [workspaceId, q.from, q.to, q.programId ?? null, q.partnerId ?? null];
  const clicks = await pool.query<{ day: string; clicks: number }>(
    `select to_char(hour at time zone 'UTC', 'YYYY-MM-DD') as day, sum(clicks)::int as clicks
       from click_rollups
      where workspace_id = $1 and hour >= ($2::date)::timestamp at time zone 'UTC' and hour < ($3::date + 1)::timestamp at time zone 'UTC'
        and ($4::text is null or program_id = $4) and ($5::text is null or partner_id = $5)
      group by 1`,
    params,
  );
  const conversions = await pool.query<{
    day: string;
    currency: string;
    leads: number;
    sales: number;
    revenue: number;
    refunds: number;
    refunded_amount: number;
  }>(
    `select to_char(day, 'YYYY-MM-DD') as day, currency, sum(leads)::int as leads, sum(sales)::int as sales, sum(revenue)::float8 as revenue,
            sum(refunds)::int as refunds, sum(refunded_amount)::float8 as refunded_amount
       from conversion_rollups
      where workspace_id = $1 and day between $2::date and $3::date
        and ($4::text is null or program_id = $4) and ($5::text is null or partner_id = $5)
      group by 1, 2`,
    params,
  );
  return foldSummary(q, clicks.rows, conversions.rows);
}
