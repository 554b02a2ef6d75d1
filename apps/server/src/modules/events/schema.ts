import { sql } from 'drizzle-orm';
import { customType, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** PostgreSQL's 64-bit transaction id (never wraps); node-postgres reads it as a decimal string. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * The transactional outbox: every domain event (sale.created, commission.payable, payout.paid …)
 * is written here in the same transaction as the change it describes, so an event exists if and
 * only if the change committed. Webhook delivery and real-time streams read from it.
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set once the webhook dispatcher has turned the event into deliveries. */
    webhooksDispatchedAt: timestamp('webhooks_dispatched_at', { withTimezone: true }),
    /**
     * The transaction that wrote the event, filled in by the database. Ids are made before their
     * transaction commits, so they do not tell a reader whether an older one may still appear; a
     * transaction id does: once it is older than every running transaction, its events are all
     * visible or rolled back (the event stream reads in this order, stream/cursor.ts). Events
     * written before the column existed carry 0.
     */
    xactId: xid8('xact_id').notNull().default(sql`pg_current_xact_id()`),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    // The dispatcher's work list stays small however long the outbox grows.
    index('outbox_events_undispatched_idx').on(t.id).where(sql`webhooks_dispatched_at is null`),
    // The event stream's page: a workspace's events in commit-safe order after a position.
    index('outbox_events_stream_idx').on(t.workspaceId, t.xactId, t.id),
  ],
);
