import { ApiError, endpoints } from '@tandem/contracts';
import { actorOf, recordAudit } from '../audit/record.js';
import { evaluateLead, evaluateSale } from '@tandem/core';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { COMMISSION_COLUMNS, type CommissionRow } from './commissions.js';
import { loadProgramContext } from './context.js';
import { partnerContext } from './engine.js';
import { runMaturity } from './maturity.js';
import { partnerBalance } from '../ledger/balance.js';

export function toCommission(c: CommissionRow) {
  return {
    id: c.id,
    programId: c.program_id,
    partnerId: c.partner_id,
    customerId: c.customer_id,
    saleId: c.sale_id,
    kind: c.kind,
    amount: c.amount,
    reversedAmount: c.reversed_amount,
    currency: c.currency,
    status: c.status,
    rulesVersion: c.rules_version,
    termsVersion: c.terms_version,
    occurredAt: c.occurred_at.toISOString(),
    payableAt: c.payable_at.toISOString(),
    reason: c.reason,
    payoutId: c.payout_id,
    explanation: c.explanation,
  };
}

export function rewardRoutes(r: Router): void {
  r.handle(endpoints.listCommissions, async ({ query, auth, services }) => {
    const after = decodeCursor(query.cursor);
    const { rows } = await services.pool.query<CommissionRow>(
      `select ${COMMISSION_COLUMNS} from commissions
        where workspace_id = $1 and ($2::text is null or program_id = $2) and ($3::text is null or partner_id = $3) and ($4::text is null or status = $4)
          and ($5::text is null or id < $5)
        order by id desc limit $6`,
      [auth.workspaceId, query.programId ?? null, query.partnerId ?? null, query.status ?? null, after ?? null, query.limit + 1],
    );
    return pageOf(rows.map(toCommission), query.limit, (c) => c.id);
  });

  r.handle(endpoints.runMaturity, async ({ body, auth, services }) => {
    const asOf = body.asOf ? new Date(body.asOf) : services.now();
    const result = await runMaturity(services.pool, asOf, services.now(), auth.workspaceId);
    // A hand-started run is an admin's money action; the scheduled sweep is not audited per minute.
    await recordAudit(services.pool, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'commissions.matured', after: { asOf: asOf.toISOString(), ...result } });
    return result;
  });

  r.handle(endpoints.partnerBalance, async ({ params, query, auth, services }) => {
    return partnerBalance(services.pool, auth.workspaceId, query.programId, params.id);
  });

  r.handle(endpoints.previewCommission, async ({ params, body, auth, services }) => {
    const program = await loadProgramContext(services.pool, auth.workspaceId, params.id);
    if (!program) throw new ApiError('not_found', 'No such program');
    const rules = body.rules ?? program.rules;
    const { rows } = await services.pool.query<{ status: string; tags: string[] }>('select status, tags from enrollments where workspace_id = $1 and program_id = $2 and partner_id = $3', [auth.workspaceId, params.id, body.partnerId]);
    const enrollment = rows[0];
    if (!enrollment) throw new ApiError('not_found', 'This partner is not enrolled in the program', [{ path: 'partnerId', message: 'is not enrolled in this program' }]);
    const occurredAt = body.event.occurredAt ? new Date(body.event.occurredAt) : services.now();
    const context = await partnerContext(services.pool, auth.workspaceId, { ...program, rules }, body.partnerId, occurredAt, enrollment.status === 'approved', enrollment.tags);
    let evaluation;
    if (body.event.type === 'sale') {
      let firstSaleAt: Date | null = null;
      if (body.event.customerId) {
        const ref = await services.pool.query<{ first_sale_at: Date }>('select first_sale_at from referrals where workspace_id = $1 and program_id = $2 and partner_id = $3 and customer_id = $4', [auth.workspaceId, params.id, body.partnerId, body.event.customerId]);
        firstSaleAt = ref.rows[0]?.first_sale_at ?? null;
      }
      evaluation = evaluateSale(rules, context, {
        amount: body.event.amount, currency: body.event.currency ?? program.currency, productId: body.event.productId ?? null, occurredAt, customerCountry: body.event.customerCountry ?? null, firstSaleAt,
      });
    } else {
      evaluation = evaluateLead(rules, context, { occurredAt, customerCountry: body.event.customerCountry ?? null });
    }
    return {
      earns: evaluation.earns,
      amount: evaluation.amount,
      currency: program.currency,
      reason: evaluation.reason,
      payableAt: evaluation.payableAt.toISOString(),
      rulesVersion: body.rules ? null : program.rulesVersion,
      explanation: evaluation.explanation,
    };
  });
}
