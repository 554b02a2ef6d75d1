import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { daysBetween, MAX_SUMMARY_DAYS } from './summary.js';

/*
 * Segment quality: which partner tags bring customers who stay and do not refund. The cohort is
 * the customers attributed to a partner (`customers`, by its partner index) whose first sale with
 * that partner falls in [from, to]; each one's later sales and refunds are index probes on
 * `sales` (by customer) and `refunds` (by sale). No clicks are read.
 */

export const RETENTION_DAYS = [30, 60, 90] as const;
/** "Active" at day N: a sale (not fully refunded) in the window of this many days before day N. */
export const ACTIVITY_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

type Money = { currency: string; amount: number }[];
export interface CohortCustomer {
  customerId: string;
  partnerId: string;
  tags: string[];
  firstSaleAt: Date;
  /** Per N of RETENTION_DAYS: bought in the window before day N. */
  activeAt: Record<(typeof RETENTION_DAYS)[number], boolean>;
  /** Per N: a refund happened within N days of the first sale. */
  refundedBy: Record<(typeof RETENTION_DAYS)[number], boolean>;
  everRefunded: boolean;
  netRevenue: Money;
}

const ratio = (n: number, d: number) => (d ? Math.round((n / d) * 10_000) / 10_000 : null);

/**
 * Pure: folds the cohort into one row per tag (a customer counts under every tag of its partner;
 * untagged partners under `null`). Only customers whose first sale is at least N days before `now`
 * count toward the N-day shares, so a young cohort is not reported as churned.
 */
export function foldSegments(cohort: CohortCustomer[], now: Date) {
  const groups = new Map<string | null, CohortCustomer[]>();
  for (const c of cohort) {
    for (const tag of c.tags.length ? c.tags : [null]) {
      const list = groups.get(tag) ?? [];
      list.push(c);
      groups.set(tag, list);
    }
  }
  const rows = [...groups.entries()].map(([tag, customers]) => {
    const share = (n: (typeof RETENTION_DAYS)[number], meets: (c: CohortCustomer) => boolean) => {
      const eligible = customers.filter((c) => c.firstSaleAt.getTime() + n * DAY_MS <= now.getTime());
      return { eligible: eligible.length, share: ratio(eligible.filter(meets).length, eligible.length) };
    };
    const at = (meets: (c: CohortCustomer, n: (typeof RETENTION_DAYS)[number]) => boolean) => ({
      d30: share(30, (c) => meets(c, 30)),
      d60: share(60, (c) => meets(c, 60)),
      d90: share(90, (c) => meets(c, 90)),
    });
    const revenue: Money = [];
    for (const c of customers) {
      for (const m of c.netRevenue) {
        const entry = revenue.find((r) => r.currency === m.currency);
        if (entry) entry.amount += m.amount;
        else revenue.push({ ...m });
      }
    }
    return {
      tag,
      partners: new Set(customers.map((c) => c.partnerId)).size,
      customers: customers.length,
      active: at((c, n) => c.activeAt[n]),
      notRefunded: at((c, n) => !c.refundedBy[n]),
      refundRate: ratio(customers.filter((c) => c.everRefunded).length, customers.length),
      revenuePerCustomer: revenue.map((m) => ({ currency: m.currency, amount: Math.round(m.amount / customers.length) })),
    };
  });
  // Biggest segments first; untagged last among equals.
  return rows.sort((a, b) => b.customers - a.customers || (a.tag === null ? 1 : b.tag === null ? -1 : a.tag < b.tag ? -1 : 1));
}

interface CohortRow {
  customer_id: string;
  partner_id: string;
  tags: string[] | null;
  first_sale: Date;
  active_30: boolean;
  active_60: boolean;
  active_90: boolean;
  refunded_30: boolean;
  refunded_60: boolean;
  refunded_90: boolean;
  ever_refunded: boolean;
  net_revenue: { currency: string; amount: number }[] | null;
}

const activeWithin = (n: number) => `exists (
  select 1 from sales s2 where s2.workspace_id = c.workspace_id and s2.customer_id = c.id
     and s2.occurred_at >= f.first_sale + interval '${n - ACTIVITY_WINDOW_DAYS} days' and s2.occurred_at < f.first_sale + interval '${n} days'
     and s2.refunded_amount < s2.amount)`;
const refundedWithin = (n: number | null) => `exists (
  select 1 from sales s3 join refunds r on r.workspace_id = s3.workspace_id and r.sale_id = s3.id
   where s3.workspace_id = c.workspace_id and s3.customer_id = c.id${n === null ? '' : ` and r.occurred_at < f.first_sale + interval '${n} days'`})`;

export async function segmentQuality(pool: pg.Pool, workspaceId: string, q: { programId?: string | undefined; from: string; to: string }, now: Date) {
  if (q.from > q.to) throw new ApiError('unprocessable', '`from` must not be after `to`', [{ path: 'from', message: 'must not be after to' }]);
  if (daysBetween(q.from, q.to).length > MAX_SUMMARY_DAYS) throw new ApiError('unprocessable', `At most ${MAX_SUMMARY_DAYS} days`, [{ path: 'to', message: `must be at most ${MAX_SUMMARY_DAYS} days after from` }]);
  const { rows } = await pool.query<CohortRow>(
    `select c.id as customer_id, c.partner_id, e.tags, f.first_sale,
            ${activeWithin(30)} as active_30, ${activeWithin(60)} as active_60, ${activeWithin(90)} as active_90,
            ${refundedWithin(30)} as refunded_30, ${refundedWithin(60)} as refunded_60, ${refundedWithin(90)} as refunded_90,
            ${refundedWithin(null)} as ever_refunded,
            (select json_agg(json_build_object('currency', t.currency, 'amount', t.amount)) from (
               select s4.currency, sum(s4.amount - s4.refunded_amount)::float8 as amount from sales s4
                where s4.workspace_id = c.workspace_id and s4.customer_id = c.id group by s4.currency) t) as net_revenue
       from customers c
       cross join lateral (
         select min(s.occurred_at) as first_sale from sales s
          where s.workspace_id = c.workspace_id and s.customer_id = c.id and s.partner_id = c.partner_id) f
       left join enrollments e on e.workspace_id = c.workspace_id and e.program_id = c.program_id and e.partner_id = c.partner_id
      where c.workspace_id = $1 and c.partner_id is not null and ($4::text is null or c.program_id = $4)
        and f.first_sale >= ($2::date)::timestamp at time zone 'UTC' and f.first_sale < ($3::date + 1)::timestamp at time zone 'UTC'`,
    [workspaceId, q.from, q.to, q.programId ?? null],
  );
  const cohort: CohortCustomer[] = rows.map((r) => ({
    customerId: r.customer_id,
    partnerId: r.partner_id,
    tags: r.tags ?? [],
    firstSaleAt: r.first_sale,
    activeAt: { 30: r.active_30, 60: r.active_60, 90: r.active_90 },
    refundedBy: { 30: r.refunded_30, 60: r.refunded_60, 90: r.refunded_90 },
    everRefunded: r.ever_refunded,
    netRevenue: (r.net_revenue ?? []).map((m) => ({ currency: m.currency, amount: Math.round(m.amount) })),
  }));
  return { from: q.from, to: q.to, data: foldSegments(cohort, now) };
}
