CREATE TABLE "api_keys" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "invitations" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"email" text NOT NULL,
	"role" text NOT NULL,
	"token_hash" text NOT NULL,
	"invited_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"accepted_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "invitations_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "memberships" (
	"workspace_id" text NOT NULL,
	"user_id" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_workspace_id_user_id_pk" PRIMARY KEY("workspace_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"user_id" text NOT NULL,
	"workspace_id" text,
	"csrf_token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"password_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"workspace_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"slug" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_schedules" (
	"name" text PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"interval_seconds" integer NOT NULL,
	"next_run_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"workspace_id" text,
	"id" text PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 8 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"unique_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "program_rules_versions" (
	"workspace_id" text NOT NULL,
	"program_id" text NOT NULL,
	"version" integer NOT NULL,
	"rules" jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "program_rules_versions_workspace_id_program_id_version_pk" PRIMARY KEY("workspace_id","program_id","version")
);
--> statement-breakpoint
CREATE TABLE "program_terms_versions" (
	"workspace_id" text NOT NULL,
	"program_id" text NOT NULL,
	"version" integer NOT NULL,
	"text" text NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "program_terms_versions_workspace_id_program_id_version_pk" PRIMARY KEY("workspace_id","program_id","version")
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"name" text NOT NULL,
	"slug" text NOT NULL,
	"currency" text NOT NULL,
	"destination_url" text NOT NULL,
	"allowed_domains" text[] DEFAULT '{}' NOT NULL,
	"attribution_window_days" integer DEFAULT 30 NOT NULL,
	"attribution_model" text DEFAULT 'last_touch' NOT NULL,
	"approval" jsonb DEFAULT '{"mode":"manual"}'::jsonb NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"rules_version" integer DEFAULT 1 NOT NULL,
	"terms_version" integer DEFAULT 1 NOT NULL,
	"terms_grace_days" integer DEFAULT 14 NOT NULL,
	"payout_threshold" integer DEFAULT 5000 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "programs_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "application_votes" (
	"workspace_id" text NOT NULL,
	"application_id" text NOT NULL,
	"reviewer_id" text NOT NULL,
	"decision" text NOT NULL,
	"comment" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "application_votes_pkey" PRIMARY KEY("workspace_id","application_id","reviewer_id")
);
--> statement-breakpoint
CREATE TABLE "applications" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"enrollment_id" text NOT NULL,
	"status" text NOT NULL,
	"website" text,
	"message" text,
	"audience_size" integer,
	"category" text,
	"decision_reason" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "applications_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "enrollment_events" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"enrollment_id" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"reason" text,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "enrollment_events_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "enrollments" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"status" text NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"coupon_code" text,
	"accepted_terms_version" integer,
	"accepted_terms_at" timestamp with time zone,
	"accepted_terms_ip_hash" text,
	"status_reason" text,
	"approved_at" timestamp with time zone,
	"application" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "enrollments_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "partners" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"user_id" text,
	"partner_workspace_id" text,
	"website" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "partners_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "partnership_members" (
	"workspace_id" text NOT NULL,
	"partnership_id" text NOT NULL,
	"owner_workspace_id" text NOT NULL,
	"status" text NOT NULL,
	"program_id" text,
	"invited_by" text,
	"invited_at" timestamp with time zone DEFAULT now() NOT NULL,
	"joined_at" timestamp with time zone,
	CONSTRAINT "partnership_members_workspace_id_partnership_id_pk" PRIMARY KEY("workspace_id","partnership_id")
);
--> statement-breakpoint
CREATE TABLE "partnership_share_links" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"partnership_id" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "partnership_share_links_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "partnerships" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"message" text,
	"agreement" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "partnerships_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "links" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"key" text NOT NULL,
	"destination_url" text NOT NULL,
	"utm" jsonb,
	"is_default" boolean DEFAULT false NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "links_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "outbox_events" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"webhooks_dispatched_at" timestamp with time zone,
	CONSTRAINT "outbox_events_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_id" text,
	"action" text NOT NULL,
	"target_type" text,
	"target_id" text,
	"before" jsonb,
	"after" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_log_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_attempts" (
	"workspace_id" text NOT NULL,
	"delivery_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"endpoint_id" text NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL,
	"attempted_at" timestamp with time zone NOT NULL,
	CONSTRAINT "webhook_attempts_workspace_id_delivery_id_attempt_pk" PRIMARY KEY("workspace_id","delivery_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"endpoint_id" text NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"body" text NOT NULL,
	"status" text NOT NULL,
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"locked_until" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "webhook_deliveries_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"url" text NOT NULL,
	"events" text[] NOT NULL,
	"description" text,
	"secret_encrypted" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"disabled_at" timestamp with time zone,
	"disabled_reason" text,
	"last_success_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "webhook_endpoints_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "click_rollups" (
	"workspace_id" text NOT NULL,
	"link_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"clicks" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "click_rollups_workspace_id_link_id_hour_pk" PRIMARY KEY("workspace_id","link_id","hour")
);
--> statement-breakpoint
CREATE TABLE "clicks" (
	"workspace_id" text NOT NULL,
	"id" uuid NOT NULL,
	"link_id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"visitor_hash" text,
	"ip_hash" text,
	"country" text,
	"device" text,
	"browser" text,
	"os" text,
	"referrer_host" text,
	"paid_click_param" text,
	CONSTRAINT "clicks_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "customer_touches" (
	"workspace_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"touch_key" text NOT NULL,
	"via" text NOT NULL,
	"program_id" text,
	"partner_id" text,
	"touch_at" timestamp with time zone NOT NULL,
	"eligible" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_touches_workspace_id_customer_id_touch_key_pk" PRIMARY KEY("workspace_id","customer_id","touch_key")
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"external_id" text NOT NULL,
	"email_hash" text,
	"name" text,
	"country" text,
	"program_id" text,
	"partner_id" text,
	"enrollment_id" text,
	"click_id" text,
	"attributed_via" text,
	"touch_at" timestamp with time zone,
	"first_attributed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "leads" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text NOT NULL,
	"event_name" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"program_id" text,
	"partner_id" text,
	"enrollment_id" text,
	"click_id" text,
	"attributed_via" text,
	"response" json NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "leads_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "refunds" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"sale_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"external_ref" text,
	"response" json NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refunds_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "sales" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"customer_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"payment_ref" text,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"product_id" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"program_id" text,
	"partner_id" text,
	"enrollment_id" text,
	"click_id" text,
	"attributed_via" text,
	"refunded_amount" bigint DEFAULT 0 NOT NULL,
	"source" text DEFAULT 'api' NOT NULL,
	"response" json NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sales_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "stripe_events" (
	"workspace_id" text NOT NULL,
	"event_id" text NOT NULL,
	"type" text NOT NULL,
	"outcome" text NOT NULL,
	"target_id" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stripe_events_workspace_id_event_id_pk" PRIMARY KEY("workspace_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "stripe_settings" (
	"workspace_id" text PRIMARY KEY NOT NULL,
	"endpoint_secret" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "conversion_rollups" (
	"workspace_id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"day" date NOT NULL,
	"currency" text NOT NULL,
	"leads" integer DEFAULT 0 NOT NULL,
	"sales" integer DEFAULT 0 NOT NULL,
	"revenue" bigint DEFAULT 0 NOT NULL,
	"refunds" integer DEFAULT 0 NOT NULL,
	"refunded_amount" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "conversion_rollups_workspace_id_program_id_partner_id_day_currency_pk" PRIMARY KEY("workspace_id","program_id","partner_id","day","currency")
);
--> statement-breakpoint
CREATE TABLE "fraud_assessments" (
	"workspace_id" text NOT NULL,
	"commission_id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"score" integer NOT NULL,
	"held_by" text,
	"review" text DEFAULT 'none' NOT NULL,
	"review_reason" text,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "fraud_assessments_workspace_id_commission_id_pk" PRIMARY KEY("workspace_id","commission_id")
);
--> statement-breakpoint
CREATE TABLE "fraud_settings" (
	"workspace_id" text NOT NULL,
	"program_id" text NOT NULL,
	"overrides" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fraud_settings_workspace_id_program_id_pk" PRIMARY KEY("workspace_id","program_id")
);
--> statement-breakpoint
CREATE TABLE "fraud_signals" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"commission_id" text NOT NULL,
	"rule_type" text NOT NULL,
	"weight" integer NOT NULL,
	"strong" boolean NOT NULL,
	"summary" text NOT NULL,
	"evidence" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "fraud_signals_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "partner_identities" (
	"workspace_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"kind" text NOT NULL,
	"value_hash" text NOT NULL,
	"seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "partner_identities_workspace_id_partner_id_kind_value_hash_pk" PRIMARY KEY("workspace_id","partner_id","kind","value_hash")
);
--> statement-breakpoint
CREATE TABLE "dispute_comments" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"dispute_id" text NOT NULL,
	"author" text NOT NULL,
	"author_id" text,
	"body" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "dispute_comments_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "dispute_policies" (
	"workspace_id" text NOT NULL,
	"program_id" text NOT NULL,
	"response_days" integer NOT NULL,
	"on_deadline" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dispute_policies_workspace_id_program_id_pk" PRIMARY KEY("workspace_id","program_id")
);
--> statement-breakpoint
CREATE TABLE "disputes" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"kind" text NOT NULL,
	"commission_id" text,
	"payout_id" text,
	"order_id" text,
	"customer_email" text,
	"sale_date" text,
	"message" text NOT NULL,
	"evidence_urls" text[] DEFAULT '{}' NOT NULL,
	"status" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"on_deadline" text NOT NULL,
	"escalated_at" timestamp with time zone,
	"decision_reason" text,
	"resolution" jsonb,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "disputes_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "commissions" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"key" text NOT NULL,
	"kind" text NOT NULL,
	"customer_id" text,
	"sale_id" text,
	"lead_id" text,
	"amount" bigint NOT NULL,
	"reversed_amount" bigint DEFAULT 0 NOT NULL,
	"clawed_back" bigint DEFAULT 0 NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"rules_version" integer NOT NULL,
	"terms_version" integer,
	"occurred_at" timestamp with time zone NOT NULL,
	"payable_at" timestamp with time zone NOT NULL,
	"reason" text,
	"explanation" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"payout_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "commissions_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "referrals" (
	"workspace_id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"first_sale_id" text NOT NULL,
	"first_sale_at" timestamp with time zone NOT NULL,
	"first_sale_amount" bigint NOT NULL,
	"qualified_at" timestamp with time zone,
	"disqualified" boolean DEFAULT false NOT NULL,
	"qualified" boolean DEFAULT false NOT NULL,
	CONSTRAINT "referrals_workspace_id_program_id_partner_id_customer_id_pk" PRIMARY KEY("workspace_id","program_id","partner_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "reward_events" (
	"workspace_id" text NOT NULL,
	"program_id" text NOT NULL,
	"seq" bigserial NOT NULL,
	"type" text NOT NULL,
	"subject" text,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reward_events_workspace_id_program_id_seq_pk" PRIMARY KEY("workspace_id","program_id","seq")
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"workspace_id" text NOT NULL,
	"chain" text NOT NULL,
	"seq" integer NOT NULL,
	"id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"ref" text,
	"currency" text NOT NULL,
	"postings" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "ledger_entries_workspace_id_chain_seq_pk" PRIMARY KEY("workspace_id","chain","seq")
);
--> statement-breakpoint
CREATE TABLE "ledger_heads" (
	"workspace_id" text NOT NULL,
	"chain" text NOT NULL,
	"seq" integer NOT NULL,
	"hash" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_heads_workspace_id_chain_pk" PRIMARY KEY("workspace_id","chain")
);
--> statement-breakpoint
CREATE TABLE "ledger_postings" (
	"workspace_id" text NOT NULL,
	"entry_id" text NOT NULL,
	"line" integer NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"account" text NOT NULL,
	"amount" bigint NOT NULL,
	CONSTRAINT "ledger_postings_workspace_id_entry_id_line_pk" PRIMARY KEY("workspace_id","entry_id","line")
);
--> statement-breakpoint
CREATE TABLE "payout_batches" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"program_id" text NOT NULL,
	"min_amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"provider" text DEFAULT 'manual' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payout_batches_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
CREATE TABLE "payouts" (
	"workspace_id" text NOT NULL,
	"id" text NOT NULL,
	"batch_id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"reference" text,
	"failure_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"paid_at" timestamp with time zone,
	CONSTRAINT "payouts_workspace_id_id_pk" PRIMARY KEY("workspace_id","id")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_workspace_id_workspaces_workspace_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_workspace_id_workspaces_workspace_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_workspace_id_workspaces_workspace_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("workspace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "invitations_pending_email_key" ON "invitations" USING btree ("workspace_id","email") WHERE accepted_at is null and revoked_at is null;--> statement-breakpoint
CREATE INDEX "memberships_user_idx" ON "memberships" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "workspaces_slug_key" ON "workspaces" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "jobs_ready_idx" ON "jobs" USING btree ("queue","run_at") WHERE status in ('queued','running');--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_unique_key" ON "jobs" USING btree ("unique_key") WHERE unique_key is not null and status in ('queued','running');--> statement-breakpoint
CREATE UNIQUE INDEX "programs_slug_key" ON "programs" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "applications_program_idx" ON "applications" USING btree ("workspace_id","program_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "applications_pending_key" ON "applications" USING btree ("workspace_id","enrollment_id") WHERE status = 'applied';--> statement-breakpoint
CREATE INDEX "enrollment_events_enrollment_idx" ON "enrollment_events" USING btree ("workspace_id","enrollment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "enrollments_program_partner_key" ON "enrollments" USING btree ("workspace_id","program_id","partner_id");--> statement-breakpoint
CREATE UNIQUE INDEX "enrollments_coupon_key" ON "enrollments" USING btree ("workspace_id","coupon_code");--> statement-breakpoint
CREATE INDEX "enrollments_partner_idx" ON "enrollments" USING btree ("workspace_id","partner_id");--> statement-breakpoint
CREATE UNIQUE INDEX "partners_email_key" ON "partners" USING btree ("workspace_id","email");--> statement-breakpoint
CREATE INDEX "partners_user_idx" ON "partners" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "partners_global_email_idx" ON "partners" USING btree ("email");--> statement-breakpoint
CREATE INDEX "partnership_members_partnership_idx" ON "partnership_members" USING btree ("owner_workspace_id","partnership_id");--> statement-breakpoint
CREATE UNIQUE INDEX "partnership_share_links_token_key" ON "partnership_share_links" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "partnership_share_links_partnership_idx" ON "partnership_share_links" USING btree ("workspace_id","partnership_id");--> statement-breakpoint
CREATE UNIQUE INDEX "links_key_key" ON "links" USING btree ("key");--> statement-breakpoint
CREATE INDEX "links_partner_idx" ON "links" USING btree ("workspace_id","program_id","partner_id");--> statement-breakpoint
CREATE INDEX "outbox_events_type_idx" ON "outbox_events" USING btree ("workspace_id","type","id");--> statement-breakpoint
CREATE INDEX "outbox_events_undispatched_idx" ON "outbox_events" USING btree ("id") WHERE webhooks_dispatched_at is null;--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("workspace_id","target_type","target_id");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_event_key" ON "webhook_deliveries" USING btree ("workspace_id","endpoint_id","event_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_idx" ON "webhook_deliveries" USING btree ("workspace_id","endpoint_id","id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "click_rollups_partner_idx" ON "click_rollups" USING btree ("workspace_id","partner_id","hour");--> statement-breakpoint
CREATE INDEX "clicks_created_idx" ON "clicks" USING brin ("created_at");--> statement-breakpoint
CREATE INDEX "clicks_partner_idx" ON "clicks" USING btree ("workspace_id","partner_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "customers_external_id_key" ON "customers" USING btree ("workspace_id","external_id");--> statement-breakpoint
CREATE INDEX "customers_partner_idx" ON "customers" USING btree ("workspace_id","partner_id");--> statement-breakpoint
CREATE UNIQUE INDEX "leads_customer_event_key" ON "leads" USING btree ("workspace_id","customer_id","event_name");--> statement-breakpoint
CREATE INDEX "leads_partner_idx" ON "leads" USING btree ("workspace_id","partner_id","occurred_at");--> statement-breakpoint
CREATE INDEX "refunds_sale_idx" ON "refunds" USING btree ("workspace_id","sale_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sales_invoice_key" ON "sales" USING btree ("workspace_id","invoice_id");--> statement-breakpoint
CREATE INDEX "sales_payment_ref_idx" ON "sales" USING btree ("workspace_id","payment_ref");--> statement-breakpoint
CREATE INDEX "sales_customer_idx" ON "sales" USING btree ("workspace_id","customer_id","occurred_at");--> statement-breakpoint
CREATE INDEX "sales_partner_idx" ON "sales" USING btree ("workspace_id","partner_id","occurred_at");--> statement-breakpoint
CREATE INDEX "fraud_assessments_review_idx" ON "fraud_assessments" USING btree ("workspace_id","review","program_id");--> statement-breakpoint
CREATE INDEX "fraud_signals_commission_idx" ON "fraud_signals" USING btree ("workspace_id","commission_id");--> statement-breakpoint
CREATE INDEX "partner_identities_value_idx" ON "partner_identities" USING btree ("workspace_id","kind","value_hash");--> statement-breakpoint
CREATE INDEX "dispute_comments_dispute_idx" ON "dispute_comments" USING btree ("workspace_id","dispute_id","created_at");--> statement-breakpoint
CREATE INDEX "disputes_status_idx" ON "disputes" USING btree ("workspace_id","status","program_id");--> statement-breakpoint
CREATE INDEX "disputes_partner_idx" ON "disputes" USING btree ("workspace_id","partner_id");--> statement-breakpoint
CREATE INDEX "disputes_due_idx" ON "disputes" USING btree ("status","due_at");--> statement-breakpoint
CREATE UNIQUE INDEX "commissions_key" ON "commissions" USING btree ("workspace_id","program_id","key");--> statement-breakpoint
CREATE INDEX "commissions_partner_idx" ON "commissions" USING btree ("workspace_id","program_id","partner_id","occurred_at");--> statement-breakpoint
CREATE INDEX "commissions_due_idx" ON "commissions" USING btree ("workspace_id","status","payable_at");--> statement-breakpoint
CREATE INDEX "commissions_sale_idx" ON "commissions" USING btree ("workspace_id","sale_id");--> statement-breakpoint
CREATE INDEX "referrals_due_idx" ON "referrals" USING btree ("workspace_id","program_id","qualified","qualified_at");--> statement-breakpoint
CREATE INDEX "reward_events_subject_idx" ON "reward_events" USING btree ("workspace_id","program_id","subject");--> statement-breakpoint
CREATE INDEX "ledger_entries_id_idx" ON "ledger_entries" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "ledger_postings_partner_idx" ON "ledger_postings" USING btree ("workspace_id","program_id","partner_id","account");--> statement-breakpoint
CREATE INDEX "payout_batches_program_idx" ON "payout_batches" USING btree ("workspace_id","program_id");--> statement-breakpoint
CREATE INDEX "payouts_program_idx" ON "payouts" USING btree ("workspace_id","program_id","created_at");--> statement-breakpoint
CREATE INDEX "payouts_batch_idx" ON "payouts" USING btree ("workspace_id","batch_id");