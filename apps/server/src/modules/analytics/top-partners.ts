import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { daysBetween, MAX_SUMMARY_DAYS } from './summary.js';

/*
 * Top partners over a date range: clicks from `click_rollups`, conversions from
 * `conversion_rollups`, commissions from `commissions` (its partner index). Raw clicks and raw
 * conversions are never scanned.
 */

type Money = { currency: string; amount: number }[];

export interface PartnerActivity {
  partnerId: string;
  name: string;
  clicks: number;
  leads: number;
  sales: number;
  /** Gross and refunded per currency, from the rollups. */
  gross: Money;
  refunded: Money;
  commissions: Money;
}

const add = (money: Money, currency: string, amount: number) => {
  if (!amount) return;
  const entry = money.find((m) => m.currency === currency);
  if (entry) entry.amount += amount;
  else money.push({ currency, amount });
};
const total = (money: Money) => money.reduce((s, m) => s + m.amount, 0);

/** Pure: derives net revenue, conversion rate and EPC per partner, ranks them and keeps `limit`. */
export function rankPartners(activity: PartnerActivity[], limit: number) {
  const rows = activity.map((a) => {
    const revenue: Money = [];
    for (const g of a.gross) add(revenue, g.currency, g.amount);
    for (const r of a.refunded) add(revenue, r.currency, -r.amount);
    return {
      partnerId: a.partnerId,
      name: a.name,
      clicks: a.clicks,
      leads: a.leads,
      sales: a.sales,
      revenue,
      commissions: a.commissions,
      conversionRate: a.clicks ? Math.round((a.sales / a.clicks) * 10_000) / 10_000 : null,
      epc: a.clicks ? revenue.map((m) => ({ currency: m.currency, amount: Math.round(m.amount / a.clicks) })) : [],
    };
  });
  // Sales first (comparable across currencies), then net revenue, then clicks; the id keeps it stable.
  rows.sort((x, y) => y.sales - x.sales || total(y.revenue) - total(x.revenue) || y.clicks - x.clicks || (x.partnerId < y.partnerId ? -1 : 1));
  return rows.slice(0, limit);
}

export async function topPartners(pool: pg.Pool, workspaceId: string, q: { programId?: string | undefined; from: string; to: string; limit: number }) {
  if (q.from > q.to) throw new ApiError('unprocessable', '`from` must not be after `to`', [{ path: 'from', message: 'must not be after to' }]);
  if (daysBetween(q.from, q.to).length > MAX_SUMMARY_DAYS) throw new ApiError('unprocessable', `At most ${MAX_SUMMARY_DAYS} days`, [{ path: 'to', message: `must be at most ${MAX_SUMMARY_DAYS} days after from` }]);
  const params = [workspaceId, q.from, q.to, q.programId ?? null];
  const clicks = await pool.query<{ partner_id: string; clicks: number }>(
    `select partner_id, sum(clicks)::int as clicks from click_rollups
      where workspace_id = $1 and hour >= ($2::date)::timestamp at time zone 'UTC' and hour < ($3::date + 1)::timestamp at time zone 'UTC'
        and ($4::text is null or program_id = $4) and partner_id <> ''
      group by 1`,
    params,
  );
  const conversions = await pool.query<{ partner_id: string; currency: string; leads: number; sales: number; revenue: string; refunded: string }>(
    `select partner_id, currency, sum(leads)::int as leads, sum(sales)::int as sales, sum(revenue)::text as revenue, sum(refunded_amount)::text as refunded
       from conversion_rollups
      where workspace_id = $1 and day between $2::date and $3::date and ($4::text is null or program_id = $4) and partner_id <> ''
      group by 1, 2`,
    params,
  );
  const commissions = await pool.query<{ partner_id: string; currency: string; amount: string }>(
    `select partner_id, currency, sum(amount - reversed_amount)::text as amount from commissions
      where workspace_id = $1 and occurred_at >= ($2::date)::timestamp at time zone 'UTC' and occurred_at < ($3::date + 1)::timestamp at time zone 'UTC'
        and ($4::text is null or program_id = $4) and status <> 'reversed'
      group by 1, 2`,
    params,
  );
  const byPartner = new Map<string, PartnerActivity>();
  const of = (partnerId: string) => {
    let a = byPartner.get(partnerId);
    if (!a) byPartner.set(partnerId, (a = { partnerId, name: partnerId, clicks: 0, leads: 0, sales: 0, gross: [], refunded: [], commissions: [] }));
    return a;
  };
  for (const r of clicks.rows) of(r.partner_id).clicks += r.clicks;
  for (const r of conversions.rows) {
    const a = of(r.partner_id);
    a.leads += r.leads;
    a.sales += r.sales;
    if (r.currency) {
      add(a.gross, r.currency, Number(r.revenue));
      add(a.refunded, r.currency, Number(r.refunded));
    }
  }
  for (const r of commissions.rows) add(of(r.partner_id).commissions, r.currency, Number(r.amount));
  const { rows: names } = await pool.query<{ id: string; name: string }>('select id, name from partners where workspace_id = $1 and id = any($2)', [workspaceId, [...byPartner.keys()]]);
  for (const n of names) byPartner.get(n.id)!.name = n.name;
  return { from: q.from, to: q.to, data: rankPartners([...byPartner.values()], q.limit) };
}
