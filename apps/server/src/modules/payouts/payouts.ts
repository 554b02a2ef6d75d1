import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { newId, payoutPaid } from '@tandem/core';
import { emitEvent } from '../events/emit.js';
import { postEntry } from '../ledger/post.js';
import { lockPartner, lockProgram } from '../../db/locks.js';
import { loadProgramContext, logRewardEvent } from '../rewards/context.js';
import { SETTLED_OFFSET_SQL } from '../rewards/commissions.js';
import { manualProvider, type PayoutProvider } from './provider.js';

/*
 * Payout batches. A payout takes every payable commission of a partner not yet in a payout —
 * clawbacks included, so a negative balance is netted into the next payout — when their sum is at
 * least the minimum. Money moves in the ledger only when the payout is marked paid; a failed payout
 * releases its commissions, which stay payable.
 */

export interface PayoutRow {
  id: string;
  batch_id: string;
  program_id: string;
  partner_id: string;
  amount: number;
  currency: string;
  status: 'pending' | 'processing' | 'paid' | 'failed';
  reference: string | null;
  failure_reason: string | null;
  settlement_id: string | null;
  created_at: Date;
  paid_at: Date | null;
}
export const PAYOUT_COLUMNS = 'id, batch_id, program_id, partner_id, amount, currency, status, reference, failure_reason, settlement_id, created_at, paid_at';

export const toPayout = (p: PayoutRow) => ({
  id: p.id,
  batchId: p.batch_id,
  programId: p.program_id,
  partnerId: p.partner_id,
  amount: p.amount,
  currency: p.currency,
  status: p.status,
  reference: p.reference,
  failureReason: p.failure_reason,
  settlementId: p.settlement_id,
  createdAt: p.created_at.toISOString(),
  paidAt: p.paid_at ? p.paid_at.toISOString() : null,
});

const eventData = (p: PayoutRow) => ({
  id: p.id, batchId: p.batch_id, programId: p.program_id, partnerId: p.partner_id, amount: p.amount, currency: p.currency, status: p.status, reference: p.reference,
  failureReason: p.failure_reason,
  ...(p.settlement_id ? { settlementId: p.settlement_id } : {}),
});

/**
 * What a commission (aliased `c`) still owes: its net amount less what partnership settlements
 * offset of it (decision 0012). Only a commission offset in part has such a remainder; one offset
 * whole is `paid` and never summed here.
 */
export const OWED_SQL = `(c.amount - c.reversed_amount - ${SETTLED_OFFSET_SQL})`;

export async function createPayoutBatch(client: pg.PoolClient, workspaceId: string, programId: string, minAmount: number | undefined, provider: PayoutProvider = manualProvider) {
  const program = await loadProgramContext(client, workspaceId, programId);
  if (!program) throw new ApiError('not_found', 'No such program', [{ path: 'programId', message: 'no program has this id' }]);
  const threshold = minAmount ?? program.payoutThreshold;
  // Exclusive: no commission of the program changes while the batch picks them.
  await lockProgram(client, workspaceId, programId);
  const { rows: balances } = await client.query<{ partner_id: string; amount: number }>(
    `select partner_id, sum(owed) as amount from (
       select c.partner_id, ${OWED_SQL} as owed from commissions c
        where c.workspace_id = $1 and c.program_id = $2 and c.status = 'payable' and c.payout_id is null) payable
      group by partner_id having sum(owed) > 0 and sum(owed) >= $3 order by partner_id`,
    [workspaceId, programId, threshold],
  );
  const batchId = newId('pbt');
  await client.query('insert into payout_batches (workspace_id, id, program_id, min_amount, currency, provider) values ($1, $2, $3, $4, $5, $6)', [workspaceId, batchId, programId, threshold, program.currency, provider.name]);
  const created: PayoutRow[] = [];
  for (const b of balances) {
    const payoutId = newId('pay');
    const { rows } = await client.query<PayoutRow>(
      `insert into payouts (workspace_id, id, batch_id, program_id, partner_id, amount, currency, status) values ($1, $2, $3, $4, $5, $6, $7, 'pending') returning ${PAYOUT_COLUMNS}`,
      [workspaceId, payoutId, batchId, programId, b.partner_id, b.amount, program.currency],
    );
    await client.query(`update commissions set payout_id = $4, updated_at = now() where workspace_id = $1 and program_id = $2 and partner_id = $3 and status = 'payable' and payout_id is null`, [workspaceId, programId, b.partner_id, payoutId]);
    await logRewardEvent(client, workspaceId, programId, 'payout', payoutId, { payoutId, partnerId: b.partner_id, minAmount: threshold });
    await emitEvent(client, { workspaceId, type: 'payout.created', data: eventData(rows[0]!) });
    created.push(rows[0]!);
  }
  const initial = await provider.submit({ id: batchId, payouts: created.map((p) => ({ id: p.id, partnerId: p.partner_id, amount: p.amount, currency: p.currency })) });
  if (initial === 'processing' && created.length > 0) {
    await client.query(`update payouts set status = 'processing' where workspace_id = $1 and batch_id = $2`, [workspaceId, batchId]);
    for (const p of created) p.status = 'processing';
  }
  return { batchId, provider: provider.name, payouts: created.map((p) => ({ id: p.id, partnerId: p.partner_id, amount: p.amount, currency: p.currency, status: p.status })) };
}

/**
 * The payout of the difference a partnership settlement leaves (decision 0012): a batch of one,
 * holding exactly the given commissions, whose remainders sum to `amount`. The caller holds the
 * partner's lock and has checked the amount; from here it follows the normal paid/failed flow.
 */
export async function createNetPayout(
  client: pg.PoolClient,
  input: { workspaceId: string; programId: string; partnerId: string; currency: string; amount: number; commissionIds: string[]; settlementId: string },
  provider: PayoutProvider = manualProvider,
): Promise<PayoutRow> {
  const batchId = newId('pbt');
  const payoutId = newId('pay');
  await client.query('insert into payout_batches (workspace_id, id, program_id, min_amount, currency, provider) values ($1, $2, $3, 0, $4, $5)', [input.workspaceId, batchId, input.programId, input.currency, provider.name]);
  const { rows } = await client.query<PayoutRow>(
    `insert into payouts (workspace_id, id, batch_id, program_id, partner_id, amount, currency, status, settlement_id) values ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) returning ${PAYOUT_COLUMNS}`,
    [input.workspaceId, payoutId, batchId, input.programId, input.partnerId, input.amount, input.currency, input.settlementId],
  );
  await client.query(`update commissions set payout_id = $3, updated_at = now() where workspace_id = $1 and id = any($2) and status = 'payable' and payout_id is null`, [input.workspaceId, input.commissionIds, payoutId]);
  await logRewardEvent(client, input.workspaceId, input.programId, 'payout', payoutId, { payoutId, partnerId: input.partnerId, minAmount: 0, settlementId: input.settlementId });
  let payout = rows[0]!;
  await emitEvent(client, { workspaceId: input.workspaceId, type: 'payout.created', data: eventData(payout) });
  const initial = await provider.submit({ id: batchId, payouts: [{ id: payout.id, partnerId: payout.partner_id, amount: payout.amount, currency: payout.currency }] });
  if (initial === 'processing') {
    payout = (await client.query<PayoutRow>(`update payouts set status = 'processing' where workspace_id = $1 and id = $2 returning ${PAYOUT_COLUMNS}`, [input.workspaceId, payoutId])).rows[0]!;
  }
  return payout;
}

async function lockedPayout(client: pg.PoolClient, workspaceId: string, payoutId: string): Promise<PayoutRow> {
  const { rows: found } = await client.query<{ program_id: string; partner_id: string }>('select program_id, partner_id from payouts where workspace_id = $1 and id = $2', [workspaceId, payoutId]);
  if (!found[0]) throw new ApiError('not_found', 'No such payout');
  await lockPartner(client, workspaceId, found[0].program_id, found[0].partner_id);
  const { rows } = await client.query<PayoutRow>(`select ${PAYOUT_COLUMNS} from payouts where workspace_id = $1 and id = $2 for update`, [workspaceId, payoutId]);
  return rows[0]!;
}

function refuse(p: PayoutRow, action: string): never {
  throw new ApiError('conflict', `A ${p.status} payout cannot be ${action}`, [{ path: 'id', message: `is ${p.status}` }]);
}

export async function markPayoutProcessing(client: pg.PoolClient, workspaceId: string, payoutId: string): Promise<PayoutRow> {
  const p = await lockedPayout(client, workspaceId, payoutId);
  if (p.status === 'processing') return p;
  if (p.status !== 'pending') refuse(p, 'processed');
  const { rows } = await client.query<PayoutRow>(`update payouts set status = 'processing' where workspace_id = $1 and id = $2 returning ${PAYOUT_COLUMNS}`, [workspaceId, payoutId]);
  return rows[0]!;
}

export async function markPayoutPaid(client: pg.PoolClient, workspaceId: string, payoutId: string, reference: string, now: Date): Promise<PayoutRow> {
  const p = await lockedPayout(client, workspaceId, payoutId);
  if (p.status === 'paid' && p.reference === reference) return p; // a retried request
  if (p.status !== 'pending' && p.status !== 'processing') refuse(p, 'marked paid');
  await logRewardEvent(client, workspaceId, p.program_id, 'payout_paid', payoutId, { payoutId });
  await client.query(`update commissions set status = 'paid', updated_at = now() where workspace_id = $1 and payout_id = $2`, [workspaceId, payoutId]);
  await postEntry(client, { workspaceId, programId: p.program_id, partnerId: p.partner_id, currency: p.currency, kind: 'payout.paid', ref: payoutId, at: now, postings: payoutPaid(p.program_id, p.partner_id, p.amount) });
  const { rows } = await client.query<PayoutRow>(`update payouts set status = 'paid', reference = $3, paid_at = $4 where workspace_id = $1 and id = $2 returning ${PAYOUT_COLUMNS}`, [workspaceId, payoutId, reference, now]);
  await emitEvent(client, { workspaceId, type: 'payout.paid', data: eventData(rows[0]!) });
  return rows[0]!;
}

export async function markPayoutFailed(client: pg.PoolClient, workspaceId: string, payoutId: string, reason: string): Promise<PayoutRow> {
  const p = await lockedPayout(client, workspaceId, payoutId);
  if (p.status === 'failed' && p.failure_reason === reason) return p; // a retried request, as for mark-paid
  if (p.status !== 'pending' && p.status !== 'processing') refuse(p, 'marked failed');
  await logRewardEvent(client, workspaceId, p.program_id, 'payout_failed', payoutId, { payoutId });
  // The money was never moved in the ledger: releasing the commissions returns it to payable.
  await client.query(`update commissions set payout_id = null, updated_at = now() where workspace_id = $1 and payout_id = $2`, [workspaceId, payoutId]);
  const { rows } = await client.query<PayoutRow>(`update payouts set status = 'failed', failure_reason = $3 where workspace_id = $1 and id = $2 returning ${PAYOUT_COLUMNS}`, [workspaceId, payoutId, reason]);
  await emitEvent(client, { workspaceId, type: 'payout.failed', data: eventData(rows[0]!) });
  return rows[0]!;
}
