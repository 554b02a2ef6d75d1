CREATE TABLE "conversion_import_rows" (
	"workspace_id" text NOT NULL,
	"import_id" text NOT NULL,
	"seq" integer NOT NULL,
	"item" jsonb NOT NULL,
	CONSTRAINT "conversion_import_rows_workspace_id_import_id_seq_pk" PRIMARY KEY("workspace_id","import_id","seq")
);
--> statement-breakpoint
CREATE TABLE "conversion_imports" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"skip_bad_rows" boolean NOT NULL,
	"rows" integer NOT NULL,
	"recorded" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"done_seq" integer DEFAULT 0 NOT NULL,
	"actor" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "conversion_imports_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
