import { pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** The workspace's Stripe webhook endpoint secret (`whsec_…`), needed to verify signatures. */
export const stripeSettings = pgTable('stripe_settings', {
  workspaceId: text('workspace_id').primaryKey(),
  endpointSecret: text('endpoint_secret').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Stripe event ids already processed: a replayed or redelivered event changes nothing. */
export const stripeEvents = pgTable(
  'stripe_events',
  {
    workspaceId: text('workspace_id').notNull(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    /** `sale`, `refund`, `duplicate_sale`, or `ignored:<why>`. */
    outcome: text('outcome').notNull(),
    targetId: text('target_id'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.eventId] })],
);
