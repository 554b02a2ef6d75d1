import { bigint, bigserial, boolean, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/*
 * Commissions and the state the rule engine needs (referrals), plus the reward event log that
 * `tandem rewards replay` recomputes everything from. Exactly-once lives in unique constraints:
 * one commission per (program, key), where the key names what earned it (`sale:<saleId>`,
 * `lead:<partner>:<customer>`, `bonus:<index>:<period>:<partner>[:<customer>]`, …).
 */

export const commissions = pgTable(
  'commissions',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    key: text('key').notNull(),
    kind: text('kind', { enum: ['lead', 'sale', 'bonus', 'clawback', 'adjustment'] }).notNull(),
    customerId: text('customer_id'),
    saleId: text('sale_id'),
    leadId: text('lead_id'),
    /** Minor units as first computed; negative for clawbacks (and debit adjustments). */
    amount: bigint('amount', { mode: 'number' }).notNull(),
    /** Reduced by reversals while unpaid; net = amount − reversed_amount. */
    reversedAmount: bigint('reversed_amount', { mode: 'number' }).notNull().default(0),
    /** Reduced by clawbacks after payment (each a `clawback` commission of its own). */
    clawedBack: bigint('clawed_back', { mode: 'number' }).notNull().default(0),
    currency: text('currency').notNull(),
    status: text('status', { enum: ['pending', 'held', 'payable', 'paid', 'reversed'] }).notNull(),
    rulesVersion: integer('rules_version').notNull(),
    termsVersion: integer('terms_version'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    payableAt: timestamp('payable_at', { withTimezone: true }).notNull(),
    reason: text('reason'),
    explanation: jsonb('explanation').notNull().default([]),
    payoutId: text('payout_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex('commissions_key').on(t.workspaceId, t.programId, t.key),
    index('commissions_partner_idx').on(t.workspaceId, t.programId, t.partnerId, t.occurredAt),
    index('commissions_due_idx').on(t.workspaceId, t.status, t.payableAt),
    index('commissions_sale_idx').on(t.workspaceId, t.saleId),
  ],
);

/** Customer C attributed to partner P in a program, from C's first attributed sale with P. */
/**
 * What each partner earned in each program per UTC month (commission amounts net of reversals, by
 * the commission's `occurred_at`): the cap check sums the months of its period (all calendar-month
 * aligned) instead of the partner's commissions in it, which grew with the partner's volume. Kept
 * exact by a trigger on `commissions` (migration 0008), whatever path creates, reduces or moves one.
 */
export const partnerMonthlyEarnings = pgTable(
  'partner_monthly_earnings',
  {
    workspaceId: text('workspace_id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    month: date('month', { mode: 'string' }).notNull(),
    earned: bigint('earned', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.programId, t.partnerId, t.month] })],
);

export const referrals = pgTable(
  'referrals',
  {
    workspaceId: text('workspace_id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    customerId: text('customer_id').notNull(),
    firstSaleId: text('first_sale_id').notNull(),
    firstSaleAt: timestamp('first_sale_at', { withTimezone: true }).notNull(),
    firstSaleAmount: bigint('first_sale_amount', { mode: 'number' }).notNull(),
    /** Null when the first sale is below `minSaleAmount`: it never qualifies. */
    qualifiedAt: timestamp('qualified_at', { withTimezone: true }),
    disqualified: boolean('disqualified').notNull().default(false),
    qualified: boolean('qualified').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.programId, t.partnerId, t.customerId] }),
    index('referrals_due_idx').on(t.workspaceId, t.programId, t.qualified, t.qualifiedAt),
  ],
);

/**
 * Every input the engine processed, in processing order (`seq`), with the facts it used (rules
 * version, enrollment approval, partner tags): replay feeds this stream to the pure engine.
 */
export const rewardEvents = pgTable(
  'reward_events',
  {
    workspaceId: text('workspace_id').notNull(),
    programId: text('program_id').notNull(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    /** The sale, lead or commission the event is about, to find it again (refunds look up their sale). */
    subject: text('subject'),
    payload: jsonb('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.programId, t.seq] }), index('reward_events_subject_idx').on(t.workspaceId, t.programId, t.subject)],
);
