import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** A program's fraud settings: overrides laid over the shipped defaults (see @tandem/core fraud). */
export const fraudSettings = pgTable(
  'fraud_settings',
  {
    workspaceId: text('workspace_id').notNull(),
    programId: text('program_id').notNull(),
    /** `{holdThreshold?, rules?: {<type>: {enabled?, weight?, …}}}` — only what differs from the defaults. */
    overrides: jsonb('overrides').notNull().default({}),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.programId] })],
);

/**
 * The risk assessment of one commission, written when the commission is created, and the review
 * of it when it was held: the review queue is the held assessments not yet decided.
 */
export const fraudAssessments = pgTable(
  'fraud_assessments',
  {
    workspaceId: text('workspace_id').notNull(),
    commissionId: text('commission_id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    score: integer('score').notNull(),
    /** Why it is in the queue: the risk score, or a ban of the partner. */
    heldBy: text('held_by', { enum: ['score', 'ban'] }),
    review: text('review', { enum: ['none', 'pending', 'released', 'rejected'] }).notNull().default('none'),
    reviewReason: text('review_reason'),
    /** `usr_…` / `key_…` of the reviewer. */
    reviewedBy: text('reviewed_by'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.commissionId] }),
    // Partial: the queue and its history are the few reviewed assessments; quiet ones ('none',
    // nearly all) are only ever read by commission, through the primary key.
    index('fraud_assessments_review_idx').on(t.workspaceId, t.review, t.programId).where(sql`review <> 'none'`),
  ],
);

/** Every rule that fired on a commission, with its evidence: what makes a hold explainable. */
export const fraudSignals = pgTable(
  'fraud_signals',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    commissionId: text('commission_id').notNull(),
    ruleType: text('rule_type').notNull(),
    weight: integer('weight').notNull(),
    strong: boolean('strong').notNull(),
    summary: text('summary').notNull(),
    evidence: jsonb('evidence').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] }), index('fraud_signals_commission_idx').on(t.workspaceId, t.commissionId)],
);

/**
 * Identities a partner is known by, as keyed hashes: the IP of its own sign-ins and requests and
 * its payout details. Two partners holding the same value share an identity.
 */
export const partnerIdentities = pgTable(
  'partner_identities',
  {
    workspaceId: text('workspace_id').notNull(),
    partnerId: text('partner_id').notNull(),
    kind: text('kind', { enum: ['ip_hash', 'payout'] }).notNull(),
    valueHash: text('value_hash').notNull(),
    seenAt: timestamp('seen_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.partnerId, t.kind, t.valueHash] }), index('partner_identities_value_idx').on(t.workspaceId, t.kind, t.valueHash)],
);
