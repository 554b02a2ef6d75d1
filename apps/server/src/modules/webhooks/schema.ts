import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** A workspace's webhook receiver: where to POST, which event types, and the signing secret. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    url: text('url').notNull(),
    /** Event types, or `*` for all. */
    events: text('events').array().notNull(),
    description: text('description'),
    /** `whsec_…`, AES-256-GCM encrypted (security/encryption.ts): it must be readable to sign. */
    secretEncrypted: text('secret_encrypted').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    disabledReason: text('disabled_reason'),
    lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] })],
);

/**
 * One event to one endpoint. Its id is the `webhook-id` header, the same on every attempt, so a
 * receiver can drop duplicates. The exact body is stored so that every attempt signs the same bytes.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    endpointId: text('endpoint_id').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    body: text('body').notNull(),
    /** `pending` | `delivered` | `failed` */
    status: text('status').notNull(),
    /** Failed attempts since the delivery (or its last manual redelivery) started: picks the next delay. */
    failedAttempts: integer('failed_attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    /** A worker holds the delivery until then; a crashed worker's claim lapses. */
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    /**
     * Raised by every claim and every manual redelivery. An attempt writes its outcome only while
     * the generation is still the one it claimed, so an attempt that finishes after a redelivery
     * (or after its lapsed claim was taken over) cannot undo the newer state.
     */
    generation: integer('generation').notNull().default(0),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    // One delivery per event per endpoint, however often the dispatcher sees the event.
    uniqueIndex('webhook_deliveries_event_key').on(t.workspaceId, t.endpointId, t.eventId),
    index('webhook_deliveries_endpoint_idx').on(t.workspaceId, t.endpointId, t.id),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
  ],
);

/** Every HTTP attempt of a delivery, with the response code: the delivery log. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    workspaceId: text('workspace_id').notNull(),
    deliveryId: text('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    endpointId: text('endpoint_id').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.deliveryId, t.attempt] })],
);
