-- The hot tables start empty and grow by thousands of rows a minute. Until PostgreSQL has
-- statistics for them the planner cannot tell a unique index from a wide one (both look like
-- "1 row") and may scan a partner's whole history for one key: measured 6.8 ms instead of 0.1 ms
-- per sale in bench/ingest. Analysing them after 2 % of change (at least 200 rows) instead of the
-- default 10 % keeps plans right from the first minutes of a new install.
ALTER TABLE "commissions" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "referrals" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "reward_events" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "ledger_entries" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "ledger_postings" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "ledger_heads" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "sales" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "leads" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "customers" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "customer_touches" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "refunds" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "fraud_assessments" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "outbox_events" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "conversion_rollups" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "click_rollups" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "clicks" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
--> statement-breakpoint
ALTER TABLE "jobs" SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
