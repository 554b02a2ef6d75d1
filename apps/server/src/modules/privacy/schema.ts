import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * What the last completed retention run of a kind (`clicks`) deleted up to, so the next run only
 * looks at rows that can have expired since. Not per workspace: retention is one sweep over all.
 */
export const retentionRuns = pgTable('retention_runs', {
  name: text('name').primaryKey(),
  /** The run's clock: every click older than its keep age at this instant was deleted. */
  ranAt: timestamp('ran_at', { withTimezone: true }).notNull(),
  /** TANDEM_CLICK_RETENTION_DAYS during that run: the keep age of clicks of every other program. */
  retentionDays: integer('retention_days').notNull(),
  /** `{"<workspaceId>/<programId>": days}` for the programs whose attribution window was longer. */
  longerWindows: jsonb('longer_windows').notNull(),
});
