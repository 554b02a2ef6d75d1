import { bigint, index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** A batch of payouts created together for one program (what a CSV export covers). */
export const payoutBatches = pgTable(
  'payout_batches',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    programId: text('program_id').notNull(),
    minAmount: bigint('min_amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    provider: text('provider').notNull().default('manual'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] }), index('payout_batches_program_idx').on(t.workspaceId, t.programId)],
);

/** One partner's payout; its commissions point at it through `commissions.payout_id`. */
export const payouts = pgTable(
  'payouts',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    batchId: text('batch_id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: ['pending', 'processing', 'paid', 'failed'] }).notNull(),
    reference: text('reference'),
    failureReason: text('failure_reason'),
    /** Set when the payout is the difference left by a partnership settlement (decision 0012). */
    settlementId: text('settlement_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    paidAt: timestamp('paid_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] }), index('payouts_program_idx').on(t.workspaceId, t.programId, t.createdAt), index('payouts_batch_idx').on(t.workspaceId, t.batchId)],
);
