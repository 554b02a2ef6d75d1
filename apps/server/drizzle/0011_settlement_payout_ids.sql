ALTER TABLE "partnership_settlements" ADD COLUMN "net_payout_ids" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
-- Settlements made before this column name their one recorded payout; payouts carry settlement_id,
-- so every payout of an older settlement is found there.
UPDATE "partnership_settlements" s SET "net_payout_ids" = coalesce(
  (SELECT array_agg(p.id ORDER BY p.id = s.net_payout_id DESC, p.id) FROM "payouts" p WHERE p.workspace_id = s.net_payer_workspace_id AND p.settlement_id = s.id),
  CASE WHEN s.net_payout_id IS NULL THEN '{}'::text[] ELSE ARRAY[s.net_payout_id] END);
