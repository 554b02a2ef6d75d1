import type pg from 'pg';
import { accrue, bucketOf, newId, type CommissionKind, type CommissionStatus, type Posting, type Step } from '@tandem/core';
import { emitEvent } from '../events/emit.js';
import { postEntry } from '../ledger/post.js';

/** A commission row as the API and the engine see it. */
export interface CommissionRow {
  id: string;
  program_id: string;
  partner_id: string;
  key: string;
  kind: CommissionKind;
  customer_id: string | null;
  sale_id: string | null;
  amount: number;
  reversed_amount: number;
  clawed_back: number;
  currency: string;
  status: CommissionStatus;
  rules_version: number;
  terms_version: number | null;
  occurred_at: Date;
  payable_at: Date;
  reason: string | null;
  explanation: Step[];
  payout_id: string | null;
}

export const COMMISSION_COLUMNS =
  'id, program_id, partner_id, key, kind, customer_id, sale_id, amount, reversed_amount, clawed_back, currency, status, rules_version, terms_version, occurred_at, payable_at, reason, explanation, payout_id';

export interface NewCommission {
  key: string;
  kind: CommissionKind;
  partnerId: string;
  customerId: string | null;
  saleId: string | null;
  leadId: string | null;
  amount: number;
  status: 'pending' | 'payable';
  rulesVersion: number;
  termsVersion: number | null;
  occurredAt: Date;
  payableAt: Date;
  reason: string | null;
  explanation: Step[];
}

export function commissionEventData(c: Pick<CommissionRow, 'id' | 'program_id' | 'partner_id' | 'customer_id' | 'sale_id' | 'kind' | 'amount' | 'currency' | 'status'>) {
  return { id: c.id, programId: c.program_id, partnerId: c.partner_id, customerId: c.customer_id, saleId: c.sale_id, kind: c.kind, amount: c.amount, currency: c.currency, status: c.status };
}

/**
 * Records a commission with its journal entry and `commission.created` event in the caller's
 * transaction. Returns null when its key already exists (exactly-once).
 */
export async function insertCommission(client: pg.PoolClient, workspaceId: string, program: { programId: string; currency: string }, c: NewCommission, at: Date): Promise<{ id: string } | null> {
  const id = newId('com');
  const inserted = await client.query(
    `insert into commissions (workspace_id, id, program_id, partner_id, key, kind, customer_id, sale_id, lead_id, amount, currency, status, rules_version, terms_version, occurred_at, payable_at, reason, explanation)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
     on conflict (workspace_id, program_id, key) do nothing`,
    [workspaceId, id, program.programId, c.partnerId, c.key, c.kind, c.customerId, c.saleId, c.leadId, c.amount, program.currency, c.status, c.rulesVersion, c.termsVersion, c.occurredAt, c.payableAt, c.reason, JSON.stringify(c.explanation)],
  );
  if (inserted.rowCount === 0) return null;
  await postEntry(client, { workspaceId, programId: program.programId, partnerId: c.partnerId, currency: program.currency, kind: `commission.${c.kind}`, ref: c.key, at, postings: accrue(program.programId, c.partnerId, bucketOf(c.status), c.amount) });
  await emitEvent(client, {
    workspaceId,
    type: 'commission.created',
    data: commissionEventData({ id, program_id: program.programId, partner_id: c.partnerId, customer_id: c.customerId, sale_id: c.saleId, kind: c.kind, amount: c.amount, currency: program.currency, status: c.status }),
  });
  return { id };
}

/** Journal entry helper for changes to an existing commission. */
export async function postForCommission(client: pg.PoolClient, workspaceId: string, c: Pick<CommissionRow, 'program_id' | 'partner_id' | 'currency' | 'key'>, kind: string, postings: Posting[], at: Date): Promise<void> {
  await postEntry(client, { workspaceId, programId: c.program_id, partnerId: c.partner_id, currency: c.currency, kind, ref: c.key, at, postings });
}

/**
 * What partnership netting already settled of commission `c` (the partnerships module's offsets,
 * read here because a partly settled commission is money on its way to the partner: reductions
 * claw it back, and it cannot be held — docs/decisions/0012-reciprocal-netting.md).
 */
export const SETTLED_OFFSET_SQL = '(select coalesce(sum(o.amount), 0) from partnership_settlement_offsets o where o.workspace_id = c.workspace_id and o.commission_id = c.id)';

