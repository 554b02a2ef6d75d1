import { bigint, index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

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
    /** `sale`, `lead`, `refund`, `refund_pending` (waiting in `stripe_pending_refunds`), `duplicate_sale`, or `ignored:<why>`. */
    outcome: text('outcome').notNull(),
    targetId: text('target_id'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.eventId] })],
);

/**
 * `charge.refunded` events that arrived before the sale of their payment (Stripe does not order
 * events): kept until a sale whose invoice id or payment reference is one of `refs` is recorded,
 * then applied to it as a refund and deleted. The `stripe_events` row of the event says what it
 * became (`refund_pending`, then `refund` or `ignored:nothing_new`). One that waited 30 days is
 * deleted by the retention job (`purgeExpiredPendingRefunds`) and its event says `ignored:unknown_sale`.
 */
export const stripePendingRefunds = pgTable(
  'stripe_pending_refunds',
  {
    workspaceId: text('workspace_id').notNull(),
    eventId: text('event_id').notNull(),
    chargeId: text('charge_id').notNull(),
    /** The charge's invoice, payment intent and `metadata.invoiceId`: what its sale may be stored under. */
    refs: text('refs').array().notNull(),
    /** Cumulative at Stripe, as in the event. */
    amountRefunded: bigint('amount_refunded', { mode: 'number' }).notNull(),
    /** The charge's currency (upper case), which a sale must have to take the refund; null when the event did not say (and for refunds kept before it was stored). */
    currency: text('currency'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.eventId] }), index('stripe_pending_refunds_refs_idx').using('gin', t.refs)],
);
