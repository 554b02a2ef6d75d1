-- `clicks` is the largest table (tens of millions of rows) and grows by thousands of rows a second
-- under load; migration 0001 has autovacuum analyse it after every 2 % of growth so that its first
-- plans are right. Each ANALYZE sampled 30,000 rows of fourteen columns: at 900k rows it read the
-- whole table and cost 320–360 ms of CPU, on the core the redirect runs on (perf on the redirect
-- bench: ~20 % of PostgreSQL's CPU there). Queries filter clicks only by workspace, program,
-- partner and time (id lookups go by the primary key, whose uniqueness needs no statistics), so:
-- no statistics for the other columns, and a 3,000-row sample for those four — the same plans
-- (checked with EXPLAIN on the fraud velocity query), ANALYZE 340 → 90 ms at 900k rows.
ALTER TABLE "clicks" ALTER COLUMN "id" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "link_id" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "visitor_hash" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "ip_hash" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "country" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "device" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "browser" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "os" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "referrer_host" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "paid_click_param" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "workspace_id" SET STATISTICS 10;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "program_id" SET STATISTICS 10;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "partner_id" SET STATISTICS 10;
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "created_at" SET STATISTICS 10;
