CREATE TABLE "partnership_settlement_offsets" (
	"workspace_id" text NOT NULL,
	"settlement_id" text NOT NULL,
	"commission_id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"amount" bigint NOT NULL,
	CONSTRAINT "partnership_settlement_offsets_workspace_id_settlement_id_commission_id_pk" PRIMARY KEY("workspace_id","settlement_id","commission_id")
);
--> statement-breakpoint
CREATE TABLE "partnership_settlements" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"partnership_id" text NOT NULL,
	"a_workspace_id" text NOT NULL,
	"b_workspace_id" text NOT NULL,
	"currency" text NOT NULL,
	"a_owes_b" bigint NOT NULL,
	"b_owes_a" bigint NOT NULL,
	"offset_amount" bigint NOT NULL,
	"net_payer_workspace_id" text,
	"net_amount" bigint NOT NULL,
	"net_payout_id" text,
	"settled_by_workspace_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "partnership_settlements_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
ALTER TABLE "payouts" ADD COLUMN "settlement_id" text;--> statement-breakpoint
CREATE INDEX "partnership_settlement_offsets_commission_idx" ON "partnership_settlement_offsets" USING btree ("workspace_id","commission_id");--> statement-breakpoint
CREATE INDEX "partnership_settlements_partnership_idx" ON "partnership_settlements" USING btree ("workspace_id","partnership_id","id");