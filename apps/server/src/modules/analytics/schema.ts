import { bigint, date, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/**
 * Conversions per (program, partner, UTC day, currency), upserted in the transaction of each
 * conversion so dashboards never scan leads or sales. Unattributed conversions are counted under
 * program '' / partner ''. Leads carry no money: they are counted under currency ''.
 */
export const conversionRollups = pgTable(
  'conversion_rollups',
  {
    workspaceId: text('workspace_id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    currency: text('currency').notNull(),
    leads: integer('leads').notNull().default(0),
    sales: integer('sales').notNull().default(0),
    revenue: bigint('revenue', { mode: 'number' }).notNull().default(0),
    refunds: integer('refunds').notNull().default(0),
    refundedAmount: bigint('refunded_amount', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.programId, t.partnerId, t.day, t.currency] })],
);
