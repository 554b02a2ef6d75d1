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
 * Adds a conversion to its daily bucket inside the conversion's own transaction, so the rollups
 * are exactly as durable as the conversions they count. Unattributed conversions are counted
 * under program '' and partner ''.
 */
export async function bumpConversionRollup(client: pg.PoolClient, d: ConversionDelta): Promise<void> {
  await client.query(
    `insert into conversion_rollups (workspace_id, program_id, partner_id, day, currency, leads, sales, revenue, refunds, refunded_amount)
     values ($1, $2, $3, ($4::timestamptz at time zone 'UTC')::date, $5, $6, $7, $8, $9, $10)
     on conflict (workspace_id, program_id, partner_id, day, currency) do update set
       leads = conversion_rollups.leads + excluded.leads,
       sales = conversion_rollups.sales + excluded.sales,
       revenue = conversion_rollups.revenue + excluded.revenue,
       refunds = conversion_rollups.refunds + excluded.refunds,
       refunded_amount = conversion_rollups.refunded_amount + excluded.refunded_amount`,
    [
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
  );
}
