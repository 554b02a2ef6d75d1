-- Portal sign-up never proved the email, and brands' partner rows link to a user by email: from
-- now on they link only to a user whose email_verified_at is set (through a mailed, hashed,
-- single-use token in email_verifications). Existing users get no verification date: nobody's
-- address was ever proved, so none is taken as proved now. Partner rows already linked
-- (partners.user_id) stay linked, as they were before this migration; nothing new links to an
-- existing user until it verifies its address in the portal (a link is mailed on request).
CREATE TABLE "email_verifications" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"email" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "email_verified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "email_verifications" ADD CONSTRAINT "email_verifications_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "email_verifications_token_hash_key" ON "email_verifications" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "email_verifications_user_idx" ON "email_verifications" USING btree ("user_id","created_at");