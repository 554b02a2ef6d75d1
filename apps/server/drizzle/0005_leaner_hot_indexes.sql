-- Fewer index entries per conversion (decision 0013): outbox_events_type_idx served no query;
-- unattributed conversions and customers, and sales without a payment reference, are never looked
-- up through these indexes, so they leave them out (every lookup compares with a value, which
-- implies NOT NULL and lets the planner use the partial index).
DROP INDEX "outbox_events_type_idx";--> statement-breakpoint
DROP INDEX "customers_partner_idx";--> statement-breakpoint
DROP INDEX "leads_partner_idx";--> statement-breakpoint
DROP INDEX "sales_payment_ref_idx";--> statement-breakpoint
DROP INDEX "sales_partner_idx";--> statement-breakpoint
CREATE INDEX "customers_partner_idx" ON "customers" USING btree ("workspace_id","partner_id") WHERE partner_id is not null;--> statement-breakpoint
CREATE INDEX "leads_partner_idx" ON "leads" USING btree ("workspace_id","partner_id","occurred_at") WHERE partner_id is not null;--> statement-breakpoint
CREATE INDEX "sales_payment_ref_idx" ON "sales" USING btree ("workspace_id","payment_ref") WHERE payment_ref is not null;--> statement-breakpoint
CREATE INDEX "sales_partner_idx" ON "sales" USING btree ("workspace_id","partner_id","occurred_at") WHERE partner_id is not null;