import { boolean, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * A conversions CSV import that was validated and accepted for recording. The upload answers as
 * soon as the rows are stored (below); a background job records them chunk by chunk and moves
 * `done_seq` forward after each chunk, so a restarted or different node continues where it stopped.
 */
export const conversionImports = pgTable(
  'conversion_imports',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    status: text('status', { enum: ['queued', 'running', 'completed', 'failed', 'cancelled'] }).notNull().default('queued'),
    skipBadRows: boolean('skip_bad_rows').notNull(),
    /** Data rows in the file (header excluded). */
    rows: integer('rows').notNull(),
    recorded: integer('recorded').notNull().default(0),
    /** Rows refused by validation (skipped) plus rows the recording refused. */
    failed: integer('failed').notNull().default(0),
    /** The first problems found, `{row, path, message}`, bounded (see MAX_LISTED_ERRORS). */
    errors: jsonb('errors').notNull().default([]),
    /** Why the whole import failed, when it did. */
    error: text('error'),
    /** Every stored row with `seq` up to this one has been recorded (or refused). */
    doneSeq: integer('done_seq').notNull().default(0),
    /** Who uploaded, for the audit entry written when recording ends. */
    actor: jsonb('actor').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] })],
);

/**
 * The validated rows of an import waiting to be recorded, in file order (`seq`). Deleted chunk by
 * chunk as they are recorded, so the table only holds work that is still to do.
 */
export const conversionImportRows = pgTable(
  'conversion_import_rows',
  {
    workspaceId: text('workspace_id').notNull(),
    importId: text('import_id').notNull(),
    seq: integer('seq').notNull(),
    /** `{row, type, body}`: the file row number and the tracking API body it validated into. */
    item: jsonb('item').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.importId, t.seq] })],
);
