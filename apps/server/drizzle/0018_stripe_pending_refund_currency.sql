-- The currency of a Stripe refund kept for its sale: a sale recorded in another currency (by the brand,
-- under the invoice id the charge names) does not take it. Null for refunds kept before this column.
ALTER TABLE "stripe_pending_refunds" ADD COLUMN "currency" text;