import { sql } from 'drizzle-orm';
import { bigint, index, integer, json, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/*
 * Conversions. Idempotency lives in unique constraints (leads: customer + event name; sales:
 * invoice id), and each row keeps the exact response body it produced so a repeat — even one
 * racing on another server process — answers with the same body. Attribution columns are a
 * snapshot taken when the conversion arrived (null program/partner = unattributed, still stored
 * for analytics). `response` is `json`, not `jsonb`: a repeat answers byte for byte what the
 * first call answered (jsonb would reorder the keys).
 */

export const leads = pgTable(
  'leads',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    customerId: text('customer_id').notNull(),
    eventName: text('event_name').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    programId: text('program_id'),
    partnerId: text('partner_id'),
    enrollmentId: text('enrollment_id'),
    clickId: text('click_id'),
    attributedVia: text('attributed_via', { enum: ['click', 'coupon'] }),
    response: json('response').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex('leads_customer_event_key').on(t.workspaceId, t.customerId, t.eventName),
    // Partial: unattributed conversions (most of them, often) are never looked up by partner.
    index('leads_partner_idx').on(t.workspaceId, t.partnerId, t.occurredAt).where(sql`partner_id is not null`),
    // Fraud's duplicate-identity check reads a program's recent click-attributed conversions.
    index('leads_program_clicked_idx').on(t.workspaceId, t.programId, t.occurredAt).where(sql`click_id is not null`),
  ],
);

export const sales = pgTable(
  'sales',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    customerId: text('customer_id').notNull(),
    invoiceId: text('invoice_id').notNull(),
    /** Another reference of the same payment (Stripe payment intent), for matching refunds. */
    paymentRef: text('payment_ref'),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    productId: text('product_id'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    programId: text('program_id'),
    partnerId: text('partner_id'),
    enrollmentId: text('enrollment_id'),
    clickId: text('click_id'),
    attributedVia: text('attributed_via', { enum: ['click', 'coupon'] }),
    refundedAmount: bigint('refunded_amount', { mode: 'number' }).notNull().default(0),
    source: text('source', { enum: ['api', 'stripe'] })
      .notNull()
      .default('api'),
    response: json('response').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex('sales_invoice_key').on(t.workspaceId, t.invoiceId),
    index('sales_payment_ref_idx').on(t.workspaceId, t.paymentRef).where(sql`payment_ref is not null`),
    index('sales_customer_idx').on(t.workspaceId, t.customerId, t.occurredAt),
    index('sales_partner_idx').on(t.workspaceId, t.partnerId, t.occurredAt).where(sql`partner_id is not null`),
    // Fraud's duplicate-identity check reads a program's recent click-attributed conversions.
    index('sales_program_clicked_idx').on(t.workspaceId, t.programId, t.occurredAt).where(sql`click_id is not null`),
  ],
);

/**
 * How many sales each partner has in each program, and how many of them were refunded at all —
 * what fraud scoring's refund-rate check reads on every attributed sale, which counting `sales`
 * made grow with the partner's history. Kept exact by a trigger on `sales` (migration 0004), so
 * every path that attributes, re-attributes, refunds or deletes a sale moves it, present or future.
 */
export const partnerSaleCounts = pgTable(
  'partner_sale_counts',
  {
    workspaceId: text('workspace_id').notNull(),
    partnerId: text('partner_id').notNull(),
    programId: text('program_id').notNull(),
    sales: integer('sales').notNull().default(0),
    refundedSales: integer('refunded_sales').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.partnerId, t.programId] })],
);

export const refunds = pgTable(
  'refunds',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    saleId: text('sale_id').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    /** Stripe charge/refund reference when the refund came from a webhook. */
    externalRef: text('external_ref'),
    response: json('response').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] }), index('refunds_sale_idx').on(t.workspaceId, t.saleId)],
);
