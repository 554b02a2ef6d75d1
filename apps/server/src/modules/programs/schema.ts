import { integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** A brand's offer. `rules_version`/`terms_version` point at the newest immutable version rows. */
export const programs = pgTable(
  'programs',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    name: text('name').notNull(),
    /** Globally unique: the public application page is /apply/:slug with no workspace in it. */
    slug: text('slug').notNull(),
    currency: text('currency').notNull(),
    destinationUrl: text('destination_url').notNull(),
    /** Hosts a link may send visitors to (the open-redirect guard); the destination's host is always allowed. */
    allowedDomains: text('allowed_domains').array().notNull().default([]),
    attributionWindowDays: integer('attribution_window_days').notNull().default(30),
    attributionModel: text('attribution_model', { enum: ['last_touch', 'first_touch'] }).notNull().default('last_touch'),
    /** `{mode: 'auto'|'manual'|'council', quorum?, reviewers?, criteria?, cooldownDays?}` */
    approval: jsonb('approval').notNull().default({ mode: 'manual' }),
    status: text('status', { enum: ['draft', 'active', 'paused', 'closed'] }).notNull().default('draft'),
    rulesVersion: integer('rules_version').notNull().default(1),
    termsVersion: integer('terms_version').notNull().default(1),
    termsGraceDays: integer('terms_grace_days').notNull().default(14),
    /** Minor units a partner's balance must reach before a payout (onboarding milestone). */
    payoutThreshold: integer('payout_threshold').notNull().default(5000),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] }), uniqueIndex('programs_slug_key').on(t.slug)],
);

/** Every version of a program's rules document, immutable once written. */
export const programRulesVersions = pgTable(
  'program_rules_versions',
  {
    workspaceId: text('workspace_id').notNull(),
    programId: text('program_id').notNull(),
    version: integer('version').notNull(),
    rules: jsonb('rules').notNull(),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.programId, t.version] })],
);

/** Every version of a program's terms, immutable once written. */
export const programTermsVersions = pgTable(
  'program_terms_versions',
  {
    workspaceId: text('workspace_id').notNull(),
    programId: text('program_id').notNull(),
    version: integer('version').notNull(),
    text: text('text').notNull(),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.programId, t.version] })],
);
