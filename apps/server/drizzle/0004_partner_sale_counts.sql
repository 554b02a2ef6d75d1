CREATE TABLE "partner_sale_counts" (
	"workspace_id" text NOT NULL,
	"partner_id" text NOT NULL,
	"program_id" text NOT NULL,
	"sales" integer DEFAULT 0 NOT NULL,
	"refunded_sales" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "partner_sale_counts_workspace_id_partner_id_program_id_pk" PRIMARY KEY("workspace_id","partner_id","program_id")
);
--> statement-breakpoint
-- Kept by a trigger rather than by the code paths that change sales: attribution, dispute
-- re-attribution, refunds, imports and deletions all move the counts, including paths added later.
CREATE FUNCTION "tandem_count_partner_sales"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND OLD.partner_id IS NOT DISTINCT FROM NEW.partner_id
     AND OLD.program_id IS NOT DISTINCT FROM NEW.program_id
     AND (OLD.refunded_amount > 0) = (NEW.refunded_amount > 0) THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.partner_id IS NOT NULL AND OLD.program_id IS NOT NULL THEN
    UPDATE "partner_sale_counts"
       SET "sales" = "sales" - 1, "refunded_sales" = "refunded_sales" - (OLD.refunded_amount > 0)::int
     WHERE "workspace_id" = OLD.workspace_id AND "partner_id" = OLD.partner_id AND "program_id" = OLD.program_id;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.partner_id IS NOT NULL AND NEW.program_id IS NOT NULL THEN
    INSERT INTO "partner_sale_counts" ("workspace_id", "partner_id", "program_id", "sales", "refunded_sales")
    VALUES (NEW.workspace_id, NEW.partner_id, NEW.program_id, 1, (NEW.refunded_amount > 0)::int)
    ON CONFLICT ("workspace_id", "partner_id", "program_id") DO UPDATE
      SET "sales" = "partner_sale_counts"."sales" + 1,
          "refunded_sales" = "partner_sale_counts"."refunded_sales" + EXCLUDED."refunded_sales";
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "sales_count_partner_sales"
  AFTER INSERT OR DELETE OR UPDATE OF "partner_id", "program_id", "refunded_amount" ON "sales"
  FOR EACH ROW EXECUTE FUNCTION "tandem_count_partner_sales"();
--> statement-breakpoint
INSERT INTO "partner_sale_counts" ("workspace_id", "partner_id", "program_id", "sales", "refunded_sales")
SELECT "workspace_id", "partner_id", "program_id", count(*), count(*) FILTER (WHERE "refunded_amount" > 0)
  FROM "sales" WHERE "partner_id" IS NOT NULL AND "program_id" IS NOT NULL
 GROUP BY 1, 2, 3;
