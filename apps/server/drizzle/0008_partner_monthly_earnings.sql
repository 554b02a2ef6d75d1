CREATE TABLE "partner_monthly_earnings" (
	"workspace_id" text NOT NULL,
	"program_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"month" date NOT NULL,
	"earned" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "partner_monthly_earnings_workspace_id_program_id_partner_id_month_pk" PRIMARY KEY("workspace_id","program_id","partner_id","month")
);
--> statement-breakpoint
-- Kept by a trigger, like partner_sale_counts: every path that creates, reduces, moves or deletes a
-- commission moves the sums, including paths added later. A month is the UTC calendar month.
CREATE FUNCTION "tandem_sum_partner_earnings"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND OLD.amount = NEW.amount AND OLD.reversed_amount = NEW.reversed_amount AND OLD.occurred_at = NEW.occurred_at
     AND OLD.partner_id = NEW.partner_id AND OLD.program_id = NEW.program_id THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE "partner_monthly_earnings"
       SET "earned" = "earned" - (OLD.amount - OLD.reversed_amount)
     WHERE "workspace_id" = OLD.workspace_id AND "program_id" = OLD.program_id AND "partner_id" = OLD.partner_id
       AND "month" = date_trunc('month', OLD.occurred_at AT TIME ZONE 'UTC')::date;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO "partner_monthly_earnings" ("workspace_id", "program_id", "partner_id", "month", "earned")
    VALUES (NEW.workspace_id, NEW.program_id, NEW.partner_id, date_trunc('month', NEW.occurred_at AT TIME ZONE 'UTC')::date, NEW.amount - NEW.reversed_amount)
    ON CONFLICT ("workspace_id", "program_id", "partner_id", "month") DO UPDATE
      SET "earned" = "partner_monthly_earnings"."earned" + EXCLUDED."earned";
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "commissions_sum_partner_earnings"
  AFTER INSERT OR DELETE OR UPDATE OF "amount", "reversed_amount", "occurred_at", "partner_id", "program_id" ON "commissions"
  FOR EACH ROW EXECUTE FUNCTION "tandem_sum_partner_earnings"();
--> statement-breakpoint
INSERT INTO "partner_monthly_earnings" ("workspace_id", "program_id", "partner_id", "month", "earned")
SELECT "workspace_id", "program_id", "partner_id", date_trunc('month', "occurred_at" AT TIME ZONE 'UTC')::date, sum("amount" - "reversed_amount")
  FROM "commissions"
 GROUP BY 1, 2, 3, 4;
