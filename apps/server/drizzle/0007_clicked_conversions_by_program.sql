-- Fraud's duplicate-identity check reads a program's click-attributed leads and sales of the last
-- hours on every click-attributed conversion; without these it scanned the workspace's conversions.
CREATE INDEX "leads_program_clicked_idx" ON "leads" USING btree ("workspace_id","program_id","occurred_at") WHERE click_id is not null;--> statement-breakpoint
CREATE INDEX "sales_program_clicked_idx" ON "sales" USING btree ("workspace_id","program_id","occurred_at") WHERE click_id is not null;