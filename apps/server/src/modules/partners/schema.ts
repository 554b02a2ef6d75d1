import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * A partner as a workspace knows it. The person's identity (email, login) is global — `user_id`
 * links to `users` once the partner has an account — but this row and everything under it is
 * the workspace's own.
 */
export const partners = pgTable(
  'partners',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    userId: text('user_id'),
    /** Set when the partner is another brand (reciprocal partnerships). */
    partnerWorkspaceId: text('partner_workspace_id'),
    website: text('website'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex('partners_email_key').on(t.workspaceId, t.email),
    index('partners_user_idx').on(t.userId),
    // The portal links a signed-in user to every brand's partner rows under its email.
    index('partners_global_email_idx').on(t.email),
  ],
);

/** A partner in one program: status, tags (segments), coupon code, accepted terms. */
export const enrollments = pgTable(
  'enrollments',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    status: text('status', { enum: ['invited', 'applied', 'approved', 'rejected', 'suspended', 'banned'] }).notNull(),
    tags: text('tags').array().notNull().default([]),
    /** Unique per workspace: a sale carrying it is attributed without knowing the program. */
    couponCode: text('coupon_code'),
    acceptedTermsVersion: integer('accepted_terms_version'),
    acceptedTermsAt: timestamp('accepted_terms_at', { withTimezone: true }),
    /** Keyed hash of the IP the terms were accepted from (never the raw IP). */
    acceptedTermsIpHash: text('accepted_terms_ip_hash'),
    /** Why the enrollment is in its status (e.g. `terms_not_accepted`, which acceptance undoes). */
    statusReason: text('status_reason'),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
    application: jsonb('application'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex('enrollments_program_partner_key').on(t.workspaceId, t.programId, t.partnerId),
    uniqueIndex('enrollments_coupon_key').on(t.workspaceId, t.couponCode),
    index('enrollments_partner_idx').on(t.workspaceId, t.partnerId),
  ],
);

/** Every status transition of an enrollment, with reason and actor: the governance audit trail. */
export const enrollmentEvents = pgTable(
  'enrollment_events',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    enrollmentId: text('enrollment_id').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    reason: text('reason'),
    /** `usr_…`, `key_…`, `system` or `partner:<ptn_…>` */
    actor: text('actor').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] }), index('enrollment_events_enrollment_idx').on(t.workspaceId, t.enrollmentId)],
);

/**
 * One application to a program (a partner may apply again after a rejection and its cool-down,
 * so an enrollment can have several). Decided by criteria, by an admin, or by council votes.
 */
export const applications = pgTable(
  'applications',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    enrollmentId: text('enrollment_id').notNull(),
    status: text('status', { enum: ['applied', 'approved', 'rejected'] }).notNull(),
    website: text('website'),
    message: text('message'),
    audienceSize: integer('audience_size'),
    category: text('category'),
    decisionReason: text('decision_reason'),
    /** `usr_…`, `key_…` or `system` (auto criteria, council quorum). */
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    index('applications_program_idx').on(t.workspaceId, t.programId, t.status),
    // At most one undecided application per enrollment.
    uniqueIndex('applications_pending_key').on(t.workspaceId, t.enrollmentId).where(sql`status = 'applied'`),
  ],
);

/** A council reviewer's vote; one per reviewer per application (a second vote is a 409). */
export const applicationVotes = pgTable(
  'application_votes',
  {
    workspaceId: text('workspace_id').notNull(),
    applicationId: text('application_id').notNull(),
    reviewerId: text('reviewer_id').notNull(),
    decision: text('decision', { enum: ['approve', 'reject'] }).notNull(),
    comment: text('comment'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'application_votes_pkey', columns: [t.workspaceId, t.applicationId, t.reviewerId] })],
);
