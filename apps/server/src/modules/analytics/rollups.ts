import type pg from 'pg';

export interface ConversionDelta {
  workspaceId: string;
  programId: string | null;
  partnerId: string | null;
  /** The conversion's time; its UTC day is the bucket. */
  at: Date;
  /** '' for leads (no money). */
  currency: string;
  leads?: number;
  sales?: number;
  revenue?: number;
  refunds?: number;
  refundedAmount?: number;
}

/**
 * The rollup upsert as a data-modifying CTE named `bumped_rollup`, for callers that fold it into a
 * statement of their own (one round trip fewer). Its parameters are numbered from `firstParam`.
 */
export function conversionRollupCte(d: ConversionDelta, firstParam: number): { cte: string; params: unknown[] } {
  const p = (i: number) => `$${firstParam + i}`;
  return {
    cte: `bumped_rollup as (insert into conversion_rollups (workspace_id, program_id, partner_id, day, currency, leads, sales, revenue, refunds, refunded_amount)
     values (${p(0)}, ${p(1)}, ${p(2)}, (${p(3)}::timestamptz at time zone 'UTC')::date, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)})
     on conflict (workspace_id, program_id, partner_id, day, currency) do update set
       leads = conversion_rollups.leads + excluded.leads,
       sales = conversion_rollups.sales + excluded.sales,
       revenue = conversion_rollups.revenue + excluded.revenue,
       refunds = conversion_rollups.refunds + excluded.refunds,
       refunded_amount = conversion_rollups.refunded_amount + excluded.refunded_amount)`,
    params: [
      d.workspaceId,
      d.programId ?? '',
      d.partnerId ?? '',
      d.at.toISOString(),
      d.currency,
      d.leads ?? 0,
      d.sales ?? 0,
      d.revenue ?? 0,
      d.refunds ?? 0,
      d.refundedAmount ?? 0,
    ],
  };
}

/**
 * Adds a conversion to its daily bucket inside the conversion's own transaction, so the rollups
 * are exactly as durable as the conversions they count. Unattributed conversions are counted
 * under program '' and partner ''.
 */
export async function bumpConversionRollup(client: pg.PoolClient, d: ConversionDelta): Promise<void> {
  const { cte, params } = conversionRollupCte(d, 1);
  await client.query(`with ${cte} select 1`, params);
}
