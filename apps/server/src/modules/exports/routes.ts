import { endpoints } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import { keysetBatches, sendCsv } from './csv.js';

const BATCH = 1000;

interface PartnerCsvRow {
  id: string;
  email: string;
  name: string;
  website: string | null;
  created_at: Date;
  program_id: string | null;
  enrollment_id: string | null;
  status: string | null;
  tags: string[] | null;
  coupon_code: string | null;
  enrolled_at: Date | null;
}

interface CommissionCsvRow {
  id: string;
  program_id: string;
  partner_id: string;
  kind: string;
  customer_id: string | null;
  sale_id: string | null;
  amount: number;
  reversed_amount: number;
  clawed_back: number;
  currency: string;
  status: string;
  rules_version: number;
  terms_version: number | null;
  occurred_at: Date;
  payable_at: Date;
  payout_id: string | null;
  reason: string | null;
}

interface PayoutCsvRow {
  id: string;
  batch_id: string;
  program_id: string;
  partner_id: string;
  partner_email: string | null;
  amount: number;
  currency: string;
  status: string;
  reference: string | null;
  created_at: Date;
  paid_at: Date | null;
}

export function exportRoutes(r: Router): void {
  r.handle(endpoints.exportPartnersCsv, async ({ query, auth, services, reply }) => {
    // Batches of partners (keyset on the partner id), each joined with its enrollments.
    const rows = keysetBatches(
      async (after) =>
        (
          await services.pool.query<PartnerCsvRow>(
            `with batch as (
               select p.* from partners p
                where p.workspace_id = $1 and ($2::text is null or p.id > $2)
                  and ($3::text is null or exists (select 1 from enrollments e where e.workspace_id = p.workspace_id and e.partner_id = p.id and e.program_id = $3))
                order by p.id limit $4)
             select b.id, b.email, b.name, b.website, b.created_at, e.program_id, e.id as enrollment_id, e.status, e.tags, e.coupon_code, e.created_at as enrolled_at
               from batch b left join enrollments e on e.workspace_id = b.workspace_id and e.partner_id = b.id and ($3::text is null or e.program_id = $3)
              order by b.id, e.id`,
            [auth.workspaceId, after, query.programId ?? null, BATCH],
          )
        ).rows,
      (row) => row.id,
      BATCH,
    );
    await sendCsv(
      reply,
      'partners.csv',
      ['partner_id', 'email', 'name', 'website', 'partner_created_at', 'program_id', 'enrollment_id', 'status', 'tags', 'coupon_code', 'enrolled_at'],
      rows,
      (p) => [p.id, p.email, p.name, p.website, p.created_at, p.program_id, p.enrollment_id, p.status, p.tags?.join(' ') ?? null, p.coupon_code, p.enrolled_at],
    );
  });

  r.handle(endpoints.exportCommissionsCsv, async ({ query, auth, services, reply }) => {
    const rows = keysetBatches(
      async (after) =>
        (
          await services.pool.query<CommissionCsvRow>(
            `select id, program_id, partner_id, kind, customer_id, sale_id, amount, reversed_amount, clawed_back, currency, status,
                    rules_version, terms_version, occurred_at, payable_at, payout_id, reason
               from commissions
              where workspace_id = $1 and ($2::text is null or id > $2) and ($3::text is null or program_id = $3)
                and ($4::text is null or partner_id = $4) and ($5::text is null or status = $5)
              order by id limit $6`,
            [auth.workspaceId, after, query.programId ?? null, query.partnerId ?? null, query.status ?? null, BATCH],
          )
        ).rows,
      (row) => row.id,
      BATCH,
    );
    await sendCsv(
      reply,
      'commissions.csv',
      ['commission_id', 'program_id', 'partner_id', 'kind', 'customer_id', 'sale_id', 'amount', 'reversed_amount', 'clawed_back', 'net_amount', 'currency', 'status', 'rules_version', 'terms_version', 'occurred_at', 'payable_at', 'payout_id', 'reason'],
      rows,
      (c) => [
        c.id, c.program_id, c.partner_id, c.kind, c.customer_id, c.sale_id, Number(c.amount), Number(c.reversed_amount), Number(c.clawed_back),
        Number(c.amount) - Number(c.reversed_amount), c.currency, c.status, c.rules_version, c.terms_version, c.occurred_at, c.payable_at, c.payout_id, c.reason,
      ],
    );
  });

  r.handle(endpoints.exportPayoutsCsv, async ({ query, auth, services, reply }) => {
    const rows = keysetBatches(
      async (after) =>
        (
          await services.pool.query<PayoutCsvRow>(
            `select y.id, y.batch_id, y.program_id, y.partner_id, p.email as partner_email, y.amount, y.currency, y.status, y.reference, y.created_at, y.paid_at
               from payouts y left join partners p on p.workspace_id = y.workspace_id and p.id = y.partner_id
              where y.workspace_id = $1 and ($2::text is null or y.id > $2) and ($3::text is null or y.program_id = $3) and ($4::text is null or y.status = $4)
              order by y.id limit $5`,
            [auth.workspaceId, after, query.programId ?? null, query.status ?? null, BATCH],
          )
        ).rows,
      (row) => row.id,
      BATCH,
    );
    await sendCsv(
      reply,
      'payouts.csv',
      ['payout_id', 'batch_id', 'program_id', 'partner_id', 'partner_email', 'amount', 'currency', 'status', 'reference', 'created_at', 'paid_at'],
      rows,
      (y) => [y.id, y.batch_id, y.program_id, y.partner_id, y.partner_email, Number(y.amount), y.currency, y.status, y.reference, y.created_at, y.paid_at],
    );
  });
}
