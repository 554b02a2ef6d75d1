-- Payload columns of the hot tables are written on every conversion and never filtered by value,
-- so the planner has no use for their statistics. Gathering them was most of what ANALYZE cost:
-- sorting a 30,000-row sample of jsonb documents (jsonb_cmp) to find common values and histogram
-- bounds. The hot tables are analysed often (db/statistics.ts; migration 0001), and under the
-- ingest benchmark those analyses were ~9 % of PostgreSQL's CPU (perf). Statistics target 0 makes
-- ANALYZE skip a column; the columns that queries filter or join on keep theirs.
ALTER TABLE "commissions" ALTER COLUMN "explanation" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "reward_events" ALTER COLUMN "payload" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "outbox_events" ALTER COLUMN "data" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "ledger_entries" ALTER COLUMN "postings" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "ledger_entries" ALTER COLUMN "hash" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "ledger_entries" ALTER COLUMN "prev_hash" SET STATISTICS 0;
--> statement-breakpoint
ALTER TABLE "jobs" ALTER COLUMN "payload" SET STATISTICS 0;
