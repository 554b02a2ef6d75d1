import { sql } from 'drizzle-orm';
import { index, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * A brand's customer, known by the brand's own id (`external_id`). The email is kept only as a
 * keyed hash (per workspace) so a customer can be matched without Tandem holding the address.
 * The attribution columns hold the customer's standing attribution (see @tandem/core attribution).
 */
export const customers = pgTable(
  'customers',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    externalId: text('external_id').notNull(),
    emailHash: text('email_hash'),
    name: text('name'),
    country: text('country'),
    programId: text('program_id'),
    partnerId: text('partner_id'),
    enrollmentId: text('enrollment_id'),
    clickId: text('click_id'),
    attributedVia: text('attributed_via', { enum: ['click', 'coupon'] }),
    /** Time of the touch that attributes (the click's time, or the coupon's use). */
    touchAt: timestamp('touch_at', { withTimezone: true }),
    /** When the customer was first attributed to anyone. */
    firstAttributedAt: timestamp('first_attributed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex('customers_external_id_key').on(t.workspaceId, t.externalId),
    index('customers_partner_idx').on(t.workspaceId, t.partnerId).where(sql`partner_id is not null`),
  ],
);

/** Every click id / coupon a customer arrived with, in order: the first/last-touch history. */
export const customerTouches = pgTable(
  'customer_touches',
  {
    workspaceId: text('workspace_id').notNull(),
    customerId: text('customer_id').notNull(),
    /** `clk_…` for a click, `coupon:<CODE>` for a coupon. */
    touchKey: text('touch_key').notNull(),
    via: text('via', { enum: ['click', 'coupon'] }).notNull(),
    programId: text('program_id'),
    partnerId: text('partner_id'),
    touchAt: timestamp('touch_at', { withTimezone: true }).notNull(),
    /** Whether the touch was inside its window when it arrived. */
    eligible: text('eligible', { enum: ['yes', 'before_window', 'in_future', 'unknown_click', 'unknown_coupon'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.customerId, t.touchKey] })],
);
