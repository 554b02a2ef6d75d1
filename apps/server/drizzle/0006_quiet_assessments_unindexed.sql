-- The review queue's index leaves out quiet assessments (review = 'none'): one index entry less
-- per attributed conversion; the queue query states review <> 'none' so the planner can use it.
DROP INDEX "fraud_assessments_review_idx";--> statement-breakpoint
CREATE INDEX "fraud_assessments_review_idx" ON "fraud_assessments" USING btree ("workspace_id","review","program_id") WHERE review <> 'none';