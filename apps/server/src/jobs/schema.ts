import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The durable job queue: one row per job, claimed with `FOR UPDATE SKIP LOCKED` so any number of
 * nodes can work it. workspace_id is null for system-wide jobs (maturity sweep, retention).
 */
export const jobs = pgTable(
  'jobs',
  {
    workspaceId: text('workspace_id'),
    id: text('id').primaryKey(),
    queue: text('queue').notNull(),
    payload: jsonb('payload').notNull().default({}),
    status: text('status', { enum: ['queued', 'running', 'done', 'failed'] }).notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(8),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    /** Deduplicates enqueues: a second job with the same key is not created while one exists. */
    uniqueKey: text('unique_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('jobs_ready_idx').on(t.queue, t.runAt).where(sql`status in ('queued','running')`),
    uniqueIndex('jobs_unique_key').on(t.uniqueKey).where(sql`unique_key is not null and status in ('queued','running')`),
  ],
);

/** Recurring work: a node that finds `next_run_at` due advances it atomically and enqueues once. */
export const jobSchedules = pgTable('job_schedules', {
  name: text('name').primaryKey(),
  queue: text('queue').notNull(),
  intervalSeconds: integer('interval_seconds').notNull(),
  nextRunAt: timestamp('next_run_at', { withTimezone: true }).notNull(),
});
