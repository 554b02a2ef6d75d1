import type pg from 'pg';
import type { z } from 'zod';
import { ApiError, type disputeResolution } from '@tandem/contracts';
import { evaluateSale, proportionOf } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { createAdjustment, releaseCommission, reverseCommission } from '../rewards/index.js';
import { loadEnrollment, loadProgramContext } from '../rewards/context.js';
import { lockPartners } from '../../db/locks.js';
import { partnerContext } from '../rewards/engine.js';
import { decideHeldCommission } from '../fraud/reviews.js';
import type { DisputeRow } from './dispute-rows.js';

type Resolution = z.output<typeof disputeResolution>;

/*
 * The ledger effect of an accepted dispute, always inside the decision's transaction. Each effect
 * goes through the rewards module's own seams (release, reversal, adjustment), so the journal,
 * the reward event log (replay) and the outbox stay consistent with every other money move.
 */

const invalid = (path: string, message: string) => new ApiError('unprocessable', message, [{ path, message }]);

async function releaseHold(client: pg.PoolClient, services: Services, dispute: DisputeRow, reason: string): Promise<Record<string, unknown>> {
  if (dispute.kind !== 'commission' || !dispute.commission_id) throw invalid('resolution.kind', 'release_hold only resolves a dispute about a commission');
  const commissionId = dispute.commission_id;
  const { rows } = await client.query<{ status: string; review: string | null }>(
    `select c.status, a.review from commissions c left join fraud_assessments a on a.workspace_id = c.workspace_id and a.commission_id = c.id
      where c.workspace_id = $1 and c.id = $2`,
    [dispute.workspace_id, commissionId],
  );
  if (rows[0]?.status !== 'held') throw new ApiError('conflict', `The disputed commission is ${rows[0]?.status ?? 'gone'}, not held`);
  const why = `Dispute ${dispute.id} accepted: ${reason}`;
  // A hold from the review queue is closed there too, so the queue never shows a released commission.
  if (rows[0].review === 'pending') {
    await decideHeldCommission(client, services, { workspaceId: dispute.workspace_id, commissionId, action: 'release', reason: why, actor: { kind: 'system', id: null } });
  } else {
    await releaseCommission(client, { workspaceId: dispute.workspace_id, commissionId, reason: why });
  }
  return { kind: 'release_hold', commissionId };
}

async function adjust(client: pg.PoolClient, services: Services, dispute: DisputeRow, amount: number, reason: string): Promise<Record<string, unknown>> {
  const { rows } = await client.query<{ currency: string }>('select currency from programs where workspace_id = $1 and id = $2', [dispute.workspace_id, dispute.program_id]);
  const created = await createAdjustment(client, {
    workspaceId: dispute.workspace_id, programId: dispute.program_id, partnerId: dispute.partner_id, amount, currency: rows[0]!.currency,
    reason: `dispute ${dispute.id}: ${reason}`, now: services.now(),
  });
  return { kind: 'adjustment', amount, commissionId: created.id };
}

interface SaleRow {
  id: string;
  invoice_id: string;
  customer_id: string;
  amount: string | number;
  refunded_amount: string | number;
  currency: string;
  product_id: string | null;
  occurred_at: Date;
  program_id: string | null;
  partner_id: string | null;
}

/**
 * Re-attributes a sale to the disputing partner: the sale's attribution snapshot moves to it, a
 * commission another partner earned on the sale is reversed (clawed back if already paid), and
 * the partner is credited what the program's current rules give for the sale, as an adjustment
 * tied to the sale (the sale's own commission key stays with the original record).
 */
async function reattribute(client: pg.PoolClient, services: Services, dispute: DisputeRow, saleId: string, reason: string): Promise<Record<string, unknown>> {
  const ws = dispute.workspace_id;
  const { rows: sales } = await client.query<SaleRow>(
    'select id, invoice_id, customer_id, amount, refunded_amount, currency, product_id, occurred_at, program_id, partner_id from sales where workspace_id = $1 and id = $2 for update',
    [ws, saleId],
  );
  const sale = sales[0];
  if (!sale) throw new ApiError('not_found', 'Sale not found', [{ path: 'resolution.saleId', message: 'no sale of this workspace has this id' }]);
  if (sale.partner_id === dispute.partner_id && sale.program_id === dispute.program_id) throw new ApiError('conflict', 'The sale is already attributed to this partner');
  // Both partners' locks, in a fixed order, before the sale row changes (see db/locks.ts).
  await lockPartners(client, ws, [
    ...(sale.program_id && sale.partner_id ? [{ programId: sale.program_id, partnerId: sale.partner_id }] : []),
    { programId: dispute.program_id, partnerId: dispute.partner_id },
  ]);
  const { rows: enrollments } = await client.query<{ id: string }>('select id from enrollments where workspace_id = $1 and program_id = $2 and partner_id = $3', [ws, dispute.program_id, dispute.partner_id]);
  const enrollmentId = enrollments[0]?.id;
  const program = await loadProgramContext(client, ws, dispute.program_id);
  if (!enrollmentId || !program) throw new ApiError('conflict', 'The partner has no enrollment with rules in the disputed program');
  const why = `dispute ${dispute.id}: sale ${sale.invoice_id} re-attributed (${reason})`;

  const { rows: previous } = await client.query<{ id: string }>(
    // Every credit of the sale but the claimant's own in the disputed program — its credit in
    // another program included, since the sale leaves that program: the sale's own commission, and
    // the credit an earlier re-attribution gave (an adjustment whose reward event names the sale's
    // base, which a manual adjustment never has).
    `select c.id from commissions c
      where c.workspace_id = $1 and c.sale_id = $2 and c.status <> 'reversed' and (c.partner_id <> $3 or c.program_id <> $4)
        and (c.kind = 'sale' or (c.kind = 'adjustment' and c.amount > 0 and exists (
              select 1 from reward_events e where e.workspace_id = c.workspace_id and e.program_id = c.program_id and e.type = 'adjustment'
                 and e.subject = c.sale_id and 'adjustment:' || (e.payload->>'adjustmentId') = c.key and e.payload->>'saleBase' is not null)))
      order by c.id`,
    [ws, sale.id, dispute.partner_id, dispute.program_id],
  );
  for (const c of previous) await reverseCommission(client, { workspaceId: ws, commissionId: c.id, reason: why, now: services.now() });

  await client.query(
    `update sales set program_id = $3, partner_id = $4, enrollment_id = $5, click_id = null, attributed_via = null where workspace_id = $1 and id = $2`,
    [ws, sale.id, dispute.program_id, dispute.partner_id, enrollmentId],
  );

  const now = services.now();
  const enrollment = await loadEnrollment(client, ws, program, enrollmentId, now);
  const { rows: referral } = await client.query<{ first_sale_at: Date; first_sale_id: string }>(
    'select first_sale_at, first_sale_id from referrals where workspace_id = $1 and program_id = $2 and partner_id = $3 and customer_id = $4',
    [ws, dispute.program_id, dispute.partner_id, sale.customer_id],
  );
  // A referral that began with this very sale (it comes back to its first partner) does not make it a later sale.
  const firstSaleAt = referral[0] && referral[0].first_sale_id !== sale.id ? referral[0].first_sale_at : null;
  const context = await partnerContext(client, ws, program, dispute.partner_id, sale.occurred_at, enrollment?.earns ?? false, enrollment?.tags ?? []);
  const evaluation = evaluateSale(program.rules, context, {
    amount: Number(sale.amount), currency: sale.currency, productId: sale.product_id, occurredAt: sale.occurred_at, customerCountry: null, firstSaleAt,
  });
  // What the sale earns less what its refunds so far take back, as a refund reduces a commission:
  // a re-attributed sale that was refunded (in part) credits only what is left of it.
  const earned = evaluation.earns ? evaluation.amount : 0;
  const refunded = Number(sale.refunded_amount);
  const amount = earned - Math.min(earned, proportionOf(earned, refunded, Number(sale.amount)));
  const created = amount > 0
    ? await createAdjustment(client, { workspaceId: ws, programId: dispute.program_id, partnerId: dispute.partner_id, amount, currency: program.currency, reason: why, saleId: sale.id, saleBase: Number(sale.amount) - refunded, now })
    : null;
  return {
    kind: 'reattribute', saleId: sale.id, fromPartnerId: sale.partner_id, reversedCommissionIds: previous.map((c) => c.id),
    amount, commissionId: created?.id ?? null,
    explanation: [...evaluation.explanation.map((s) => s.text), ...(refunded > 0 && earned > 0 ? [`less ${earned - amount} for the ${refunded} of ${Number(sale.amount)} already refunded`] : [])],
  };
}

export async function applyResolution(client: pg.PoolClient, services: Services, dispute: DisputeRow, resolution: Resolution, reason: string): Promise<Record<string, unknown>> {
  switch (resolution.kind) {
    case 'release_hold':
      return releaseHold(client, services, dispute, reason);
    case 'adjustment':
      return adjust(client, services, dispute, resolution.amount, reason);
    case 'reattribute':
      return reattribute(client, services, dispute, resolution.saleId, reason);
  }
}

/**
 * The effect an automatic acceptance may apply without a person: releasing the disputed held
 * commission, or re-attributing the sale whose invoice id the partner named. Null when neither
 * follows from the dispute alone — and for a sale, unless the claimant's enrollment is approved:
 * taking a sale away from the partner it is attributed to, on nobody's word but a claimant that
 * could not even earn from it (pending, banned), is not something a deadline may do.
 */
export async function automaticResolution(client: pg.PoolClient, dispute: DisputeRow): Promise<Resolution | null> {
  if (dispute.kind === 'commission' && dispute.commission_id) {
    const { rows } = await client.query<{ status: string }>('select status from commissions where workspace_id = $1 and id = $2', [dispute.workspace_id, dispute.commission_id]);
    return rows[0]?.status === 'held' ? { kind: 'release_hold' } : null;
  }
  if (dispute.kind === 'missing_credit' && dispute.order_id) {
    const { rows } = await client.query<{ id: string }>(
      `select s.id from sales s
        where s.workspace_id = $1 and s.invoice_id = $2 and (s.partner_id is distinct from $3 or s.program_id is distinct from $4)
          and exists (select 1 from enrollments e where e.workspace_id = s.workspace_id and e.program_id = $4 and e.partner_id = $3 and e.status = 'approved')`,
      [dispute.workspace_id, dispute.order_id, dispute.partner_id, dispute.program_id],
    );
    return rows[0] ? { kind: 'reattribute', saleId: rows[0].id } : null;
  }
  return null;
}
