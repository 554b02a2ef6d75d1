import type pg from 'pg';
import { move, netAmount, periodKey, planMaturity, type Referral } from '@tandem/core';
import { emitEvent } from '../events/emit.js';
import { withTransaction } from '../../db/tx.js';
import { COMMISSION_COLUMNS, commissionEventData, insertCommission, postForCommission, type CommissionRow } from './commissions.js';
import { lockProgram } from '../../db/locks.js';
import { enrollmentEarns, loadProgramContext, logRewardEvent } from './context.js';

/*
 * The maturity process: `pending → payable` when `payableAt ≤ asOf`, referrals qualify when
 * `qualifiedAt ≤ asOf`, and bonuses are awarded (rewards.md). One transaction per program holding
 * the program lock exclusively, so the run sees no half-processed sale. Idempotent: a second run
 * with the same asOf finds nothing due.
 */

export interface MaturityResult {
  payable: number;
  qualified: number;
  bonuses: number;
}

/** Programs of the workspace (or of every workspace) with something due by asOf. */
async function programsDue(pool: pg.Pool, asOf: Date, workspaceId: string | null): Promise<{ workspace_id: string; program_id: string }[]> {
  const { rows } = await pool.query<{ workspace_id: string; program_id: string }>(
    `select workspace_id, program_id from commissions where status = 'pending' and payable_at <= $1 and ($2::text is null or workspace_id = $2)
     union
     select workspace_id, program_id from referrals where not qualified and not disqualified and qualified_at <= $1 and ($2::text is null or workspace_id = $2)`,
    [asOf, workspaceId],
  );
  return rows;
}

export async function matureProgram(client: pg.PoolClient, workspaceId: string, programId: string, asOf: Date, now: Date): Promise<MaturityResult> {
  await lockProgram(client, workspaceId, programId);
  const program = await loadProgramContext(client, workspaceId, programId);
  if (!program) return { payable: 0, qualified: 0, bonuses: 0 };

  const { rows: due } = await client.query<CommissionRow>(
    `update commissions set status = 'payable', updated_at = now() where workspace_id = $1 and program_id = $2 and status = 'pending' and payable_at <= $3
     returning ${COMMISSION_COLUMNS}`,
    [workspaceId, programId, asOf],
  );
  // Creation order (ids are time-sortable), as the replay walks its commissions: a deterministic chain.
  due.sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const c of due) {
    await postForCommission(client, workspaceId, c, 'commission.payable', move(programId, c.partner_id, 'pending', 'payable', netAmount({ amount: c.amount, reversedAmount: c.reversed_amount })), now);
    await emitEvent(client, { workspaceId, type: 'commission.payable', data: commissionEventData({ ...c, status: 'payable' }) });
  }

  const { rows: referralRows } = await client.query<{ partner_id: string; customer_id: string; first_sale_id: string; first_sale_at: Date; first_sale_amount: number; qualified_at: Date | null; qualified: boolean }>(
    `select partner_id, customer_id, first_sale_id, first_sale_at, first_sale_amount, qualified_at, qualified from referrals
      where workspace_id = $1 and program_id = $2 and not disqualified and qualified_at is not null and (qualified or qualified_at <= $3)`,
    [workspaceId, programId, asOf],
  );
  const referrals: Referral[] = referralRows.map((r) => ({
    partnerId: r.partner_id, customerId: r.customer_id, firstSaleId: r.first_sale_id, firstSaleAt: r.first_sale_at, firstSaleAmount: r.first_sale_amount, qualifiedAt: r.qualified_at, qualified: r.qualified, disqualified: false,
  }));
  const candidates = referrals.filter((r) => !r.qualified);
  let bonuses = 0;
  if (candidates.length > 0) {
    const rules = program.rules;
    const earnings = new Map<string, number>();
    if (rules.cap && rules.bonuses?.length) {
      const partnerIds = [...new Set(candidates.map((r) => r.partnerId))];
      const { rows } = await client.query<{ partner_id: string; occurred_at: Date; net: number }>(
        'select partner_id, occurred_at, amount - reversed_amount as net from commissions where workspace_id = $1 and program_id = $2 and partner_id = any($3)',
        [workspaceId, programId, partnerIds],
      );
      for (const r of rows) {
        const k = `${r.partner_id}|${periodKey(rules.cap.period, r.occurred_at)}`;
        earnings.set(k, (earnings.get(k) ?? 0) + Number(r.net));
      }
    }
    const { rows: awarded } = await client.query<{ key: string }>("select key from commissions where workspace_id = $1 and program_id = $2 and kind = 'bonus'", [workspaceId, programId]);
    const plan = planMaturity(rules, asOf, {
      candidates,
      qualifiedBefore: referrals.filter((r) => r.qualified),
      capEarnings: (partnerId, t) => (rules.cap ? earnings.get(`${partnerId}|${periodKey(rules.cap.period, t)}`) ?? 0 : 0),
      awardedKeys: new Set(awarded.map((r) => r.key)),
    });
    // A bonus is a commission: a partner whose enrollment cannot earn now is not awarded one — as
    // for a sale, that is one not approved (pending, banned: a ban holds what it has, and bonuses
    // would be born payable after it) or one that has not accepted the program's current terms
    // past their grace period. Its referrals still count, as they did when they were made; the run
    // logs whose bonuses it withheld (replay follows the log).
    const planned = [...new Set(plan.bonuses.map((b) => b.partnerId))];
    const { rows: enrollments } = planned.length
      ? await client.query<{ partner_id: string; status: string; accepted_terms_version: number | null }>(
          `select partner_id, status, accepted_terms_version from enrollments where workspace_id = $1 and program_id = $2 and partner_id = any($3)`,
          [workspaceId, programId, planned],
        )
      : { rows: [] };
    const earning = new Set(enrollments.filter((e) => enrollmentEarns(program, e.status, e.accepted_terms_version, now)).map((e) => e.partner_id));
    const withheldFrom = planned.filter((p) => !earning.has(p)).sort();
    if (plan.qualified.length > 0) {
      await client.query(
        `update referrals r set qualified = true from unnest($3::text[], $4::text[]) as q(partner_id, customer_id)
          where r.workspace_id = $1 and r.program_id = $2 and r.partner_id = q.partner_id and r.customer_id = q.customer_id`,
        [workspaceId, programId, plan.qualified.map((r) => r.partnerId), plan.qualified.map((r) => r.customerId)],
      );
    }
    for (const b of plan.bonuses) {
      if (!earning.has(b.partnerId)) continue;
      const created = await insertCommission(client, workspaceId, program, {
        key: b.key, kind: 'bonus', partnerId: b.partnerId, customerId: b.customerId, saleId: null, leadId: null, amount: b.amount, status: 'payable',
        rulesVersion: program.rulesVersion, termsVersion: null, occurredAt: b.occurredAt, payableAt: b.occurredAt, reason: b.reason, explanation: b.explanation,
      }, now);
      if (!created) continue;
      bonuses += 1;
      // Bonuses are born payable: subscribers to commission.payable hear of them too.
      await emitEvent(client, {
        workspaceId,
        type: 'commission.payable',
        data: commissionEventData({ id: created.id, program_id: programId, partner_id: b.partnerId, customer_id: b.customerId, sale_id: null, kind: 'bonus', amount: b.amount, currency: program.currency, status: 'payable' }),
      });
    }
    if (due.length > 0 || plan.qualified.length > 0) {
      await logRewardEvent(client, workspaceId, programId, 'mature', null, { asOf: asOf.toISOString(), rulesVersion: program.rulesVersion, ...(withheldFrom.length ? { withheldFrom } : {}) });
    }
    return { payable: due.length, qualified: plan.qualified.length, bonuses };
  }
  if (due.length > 0) await logRewardEvent(client, workspaceId, programId, 'mature', null, { asOf: asOf.toISOString(), rulesVersion: program.rulesVersion });
  return { payable: due.length, qualified: 0, bonuses };
}

/** Runs maturity for every program with something due (one workspace, or all for the schedule). */
export async function runMaturity(pool: pg.Pool, asOf: Date, now: Date, workspaceId: string | null): Promise<MaturityResult> {
  const total: MaturityResult = { payable: 0, qualified: 0, bonuses: 0 };
  for (const p of await programsDue(pool, asOf, workspaceId)) {
    const r = await withTransaction(pool, (client) => matureProgram(client, p.workspace_id, p.program_id, asOf, now));
    total.payable += r.payable;
    total.qualified += r.qualified;
    total.bonuses += r.bonuses;
  }
  return total;
}
