-- The event stream reads in the order transactions become final (stream/cursor.ts). Rows written
-- before this column are all final already: they get 0 (a constant default, so the table is not
-- rewritten) and stream first, in id order; only later rows take their transaction's id.
-- Idempotent: a database migrated at c21f8e2 recorded this migration under an earlier date and
-- runs it again (it was re-dated after 0014); there it must find its column and index in place.
ALTER TABLE "outbox_events" ADD COLUMN IF NOT EXISTS "xact_id" "xid8" DEFAULT '0' NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox_events" ALTER COLUMN "xact_id" SET DEFAULT pg_current_xact_id();--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "outbox_events_stream_idx" ON "outbox_events" USING btree ("workspace_id","xact_id","id");
