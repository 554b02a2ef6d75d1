import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { commissionKeys, move, netAmount, newIdBody } from '@tandem/core';
import { emitEvent } from '../events/emit.js';
import { COMMISSION_COLUMNS, commissionEventData, insertCommission, postForCommission, SETTLED_OFFSET_SQL, type CommissionRow } from './commissions.js';
import { lockPartner } from '../../db/locks.js';
import { loadProgramContext, logRewardEvent } from './context.js';
import { reduceCommission } from './engine.js';

/*
 * Holds, releases, reversals and manual adjustments — the seams fraud review and disputes call in
 * their own transactions. Each logs its reward event (so replay sees it) and posts its journal entry.
 */

async function lockedCommission(client: pg.PoolClient, workspaceId: string, commissionId: string): Promise<CommissionRow & { settled_offset: number }> {
  const { rows: found } = await client.query<{ program_id: string; partner_id: string }>('select program_id, partner_id from commissions where workspace_id = $1 and id = $2', [workspaceId, commissionId]);
  if (!found[0]) throw new ApiError('not_found', 'No such commission', [{ path: 'commissionId', message: 'no commission has this id' }]);
  await lockPartner(client, workspaceId, found[0].program_id, found[0].partner_id);
  const { rows } = await client.query<CommissionRow & { settled_offset: number }>(
    `select ${COMMISSION_COLUMNS}, ${SETTLED_OFFSET_SQL} as settled_offset from commissions c where workspace_id = $1 and id = $2 for update`,
    [workspaceId, commissionId],
  );
  return rows[0]!;
}

/** Holds a pending or payable commission for review: it stops maturing and leaves payable. */
export async function holdCommission(client: pg.PoolClient, input: { workspaceId: string; commissionId: string; reason: string; now?: Date }): Promise<CommissionRow> {
  const c = await lockedCommission(client, input.workspaceId, input.commissionId);
  if ((c.status !== 'pending' && c.status !== 'payable') || c.payout_id || c.settled_offset > 0) {
    const what = c.payout_id ? 'commission in a payout' : c.settled_offset > 0 ? 'commission partly settled by partnership netting' : `${c.status} commission`;
    throw new ApiError('conflict', `A ${what} cannot be held`, [{ path: 'commissionId', message: `is ${c.status}` }]);
  }
  await logRewardEvent(client, input.workspaceId, c.program_id, 'hold', c.id, { commissionKey: c.key, reason: input.reason });
  if (c.status === 'payable') await postForCommission(client, input.workspaceId, c, 'commission.held', move(c.program_id, c.partner_id, 'payable', 'pending', netAmount({ amount: c.amount, reversedAmount: c.reversed_amount })), input.now ?? new Date());
  // The hold's reason lives in the reward event log; the commission keeps its own (e.g. cap_reached).
  const { rows } = await client.query<CommissionRow>(`update commissions set status = 'held', updated_at = now() where workspace_id = $1 and id = $2 returning ${COMMISSION_COLUMNS}`, [input.workspaceId, c.id]);
  // Subscribers saw `commission.created` as pending; they hear that it is now held, and why.
  await emitEvent(client, { workspaceId: input.workspaceId, type: 'commission.held', data: { ...commissionEventData(rows[0]!), reason: input.reason } });
  return rows[0]!;
}

/** Releases a held commission back to pending; the next maturity run makes it payable when due. */
export async function releaseCommission(client: pg.PoolClient, input: { workspaceId: string; commissionId: string; reason?: string }): Promise<CommissionRow> {
  const c = await lockedCommission(client, input.workspaceId, input.commissionId);
  if (c.status !== 'held') throw new ApiError('conflict', `A ${c.status} commission is not held`, [{ path: 'commissionId', message: `is ${c.status}` }]);
  await logRewardEvent(client, input.workspaceId, c.program_id, 'release', c.id, { commissionKey: c.key, reason: input.reason ?? null });
  const { rows } = await client.query<CommissionRow>(`update commissions set status = 'pending', updated_at = now() where workspace_id = $1 and id = $2 returning ${COMMISSION_COLUMNS}`, [input.workspaceId, c.id]);
  await emitEvent(client, { workspaceId: input.workspaceId, type: 'commission.released', data: { ...commissionEventData(rows[0]!), reason: input.reason ?? null } });
  return rows[0]!;
}

/** Reverses what is left of a commission: a reversal while unpaid, a clawback once paid. */
export async function reverseCommission(client: pg.PoolClient, input: { workspaceId: string; commissionId: string; reason: string; now?: Date }): Promise<CommissionRow> {
  const c = await lockedCommission(client, input.workspaceId, input.commissionId);
  if (c.status === 'reversed') return c;
  await logRewardEvent(client, input.workspaceId, c.program_id, 'reverse', c.id, { commissionKey: c.key, reason: input.reason });
  const remaining = c.amount - c.reversed_amount - c.clawed_back;
  const paidOrInPayout = c.status === 'paid' || c.payout_id !== null || c.settled_offset > 0;
  await reduceCommission(client, input.workspaceId, c, remaining, paidOrInPayout ? 'clawback' : 'reversal', `reverse:${c.key}`, c.occurred_at, 'reversed', input.now ?? new Date());
  const { rows } = await client.query<CommissionRow>(`select ${COMMISSION_COLUMNS} from commissions where workspace_id = $1 and id = $2`, [input.workspaceId, c.id]);
  return rows[0]!;
}

/** A manual credit (positive) or debit (negative), payable at once. */
export async function createAdjustment(
  client: pg.PoolClient,
  input: {
    workspaceId: string; programId: string; partnerId: string; amount: number; currency: string; reason: string; saleId?: string; now?: Date;
    /** For a credit made for a sale: the part of the sale it was earned on (what later refunds of the sale reduce it against). */
    saleBase?: number;
  },
): Promise<{ id: string }> {
  const program = await loadProgramContext(client, input.workspaceId, input.programId);
  if (!program) throw new ApiError('not_found', 'No such program', [{ path: 'programId', message: 'no program with rules has this id' }]);
  if (program.currency !== input.currency) throw new ApiError('unprocessable', `The program pays in ${program.currency}`, [{ path: 'currency', message: `must be ${program.currency}` }]);
  await lockPartner(client, input.workspaceId, input.programId, input.partnerId);
  const now = input.now ?? new Date();
  const adjustmentId = newIdBody(now.getTime());
  await logRewardEvent(client, input.workspaceId, input.programId, 'adjustment', input.saleId ?? null, {
    adjustmentId, partnerId: input.partnerId, amount: input.amount, occurredAt: now.toISOString(), saleId: input.saleId ?? null, saleBase: input.saleBase ?? null,
  });
  const created = await insertCommission(client, input.workspaceId, program, {
    key: commissionKeys.adjustment(adjustmentId), kind: 'adjustment', partnerId: input.partnerId, customerId: null, saleId: input.saleId ?? null, leadId: null, amount: input.amount, status: 'payable',
    rulesVersion: 0, termsVersion: null, occurredAt: now, payableAt: now, reason: 'adjustment', explanation: [{ step: 'amount', text: `adjustment: ${input.reason}`, amount: input.amount }],
  }, now);
  await emitEvent(client, { workspaceId: input.workspaceId, type: 'commission.payable', data: commissionEventData({ id: created!.id, program_id: input.programId, partner_id: input.partnerId, customer_id: null, sale_id: input.saleId ?? null, kind: 'adjustment', amount: input.amount, currency: program.currency, status: 'payable' }) });
  return created!;
}
