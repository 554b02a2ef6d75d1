import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

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
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    // The dispatcher's work list stays small however long the outbox grows.
    index('outbox_events_undispatched_idx').on(t.id).where(sql`webhooks_dispatched_at is null`),
  ],
);
