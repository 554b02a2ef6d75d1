CREATE TABLE "retention_runs" (
	"name" text PRIMARY KEY NOT NULL,
	"ran_at" timestamp with time zone NOT NULL,
	"retention_days" integer NOT NULL,
	"longer_windows" jsonb NOT NULL
);
