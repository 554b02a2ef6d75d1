-- Stripe refunds that arrive before the sale of their payment (Stripe does not order webhook events):
-- kept here until the sale is recorded, then applied to it and deleted. `refs` holds what the sale may
-- be stored under (invoice, payment intent); the GIN index finds the refunds waiting for a sale.
CREATE TABLE "stripe_pending_refunds" (
	"workspace_id" text NOT NULL,
	"event_id" text NOT NULL,
	"charge_id" text NOT NULL,
	"refs" text[] NOT NULL,
	"amount_refunded" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stripe_pending_refunds_workspace_id_event_id_pk" PRIMARY KEY("workspace_id","event_id")
);
--> statement-breakpoint
CREATE INDEX "stripe_pending_refunds_refs_idx" ON "stripe_pending_refunds" USING gin ("refs");