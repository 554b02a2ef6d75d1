import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** How a program answers disputes: the response time it commits to and what happens past it. */
export const disputePolicies = pgTable(
  'dispute_policies',
  {
    workspaceId: text('workspace_id').notNull(),
    programId: text('program_id').notNull(),
    responseDays: integer('response_days').notNull(),
    onDeadline: text('on_deadline', { enum: ['escalate', 'accept', 'reject'] }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.programId] })],
);

/**
 * A partner's dispute with a brand: about a commission, a sale it believes it earned (missing
 * credit) or a payout. The deadline and policy are copied in when filed, so a later policy change
 * never moves a promise already made.
 */
export const disputes = pgTable(
  'disputes',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    kind: text('kind', { enum: ['commission', 'missing_credit', 'payout'] }).notNull(),
    commissionId: text('commission_id'),
    payoutId: text('payout_id'),
    /** Missing credit: what the partner knows of the sale. */
    orderId: text('order_id'),
    customerEmail: text('customer_email'),
    saleDate: text('sale_date'),
    message: text('message').notNull(),
    evidenceUrls: text('evidence_urls').array().notNull().default([]),
    status: text('status', { enum: ['open', 'under_review', 'accepted', 'rejected', 'withdrawn'] }).notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    onDeadline: text('on_deadline', { enum: ['escalate', 'accept', 'reject'] }).notNull(),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    decisionReason: text('decision_reason'),
    /** The ledger effect of an accepted dispute: `{kind, …, commissionId?}`. */
    resolution: jsonb('resolution'),
    /** `usr_…`, `key_…` or `system` (deadline policy). */
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index('disputes_status_idx').on(t.workspaceId, t.status, t.programId),
    index('disputes_partner_idx').on(t.workspaceId, t.partnerId),
    index('disputes_due_idx').on(t.status, t.dueAt),
  ],
);

/** The conversation on a dispute, from both sides. */
export const disputeComments = pgTable(
  'dispute_comments',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    disputeId: text('dispute_id').notNull(),
    author: text('author', { enum: ['brand', 'partner'] }).notNull(),
    authorId: text('author_id'),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] }), index('dispute_comments_dispute_idx').on(t.workspaceId, t.disputeId, t.createdAt)],
);
