import type pg from 'pg';
import { verifyChains } from '@tandem/core';
import { partnerBalance } from '../ledger/balance.js';
import { chainOf } from '../ledger/post.js';
import { partnerStatement, type Statement } from '../ledger/statement.js';
import { ENTRY_COLUMNS, postingProblems, toChained, type EntryRow } from '../ledger/verify.js';
import { getPortalRow } from './portal.js';
import { ApiError } from '@tandem/contracts';
import { earningsSeries, type EarningsInterval } from './earnings-series.js';

/*
 * The partner's side of the ledger: every function resolves the enrollment through the signed-in
 * user's own partner rows first (another partner's enrollment is not found), then reuses the
 * ledger module's brand-side computations for that one (program, partner) chain.
 */

interface Owner {
  workspaceId: string;
  programId: string;
  partnerId: string;
}

async function ownerOf(pool: pg.Pool, userId: string, enrollmentId: string): Promise<Owner> {
  const row = await getPortalRow(pool, userId, enrollmentId);
  return { workspaceId: row.workspace_id, programId: row.program_id, partnerId: row.partner_id };
}

export async function portalBalance(pool: pg.Pool, userId: string, enrollmentId: string) {
  const o = await ownerOf(pool, userId, enrollmentId);
  return partnerBalance(pool, o.workspaceId, o.programId, o.partnerId);
}

interface CommissionRow {
  id: string;
  kind: 'lead' | 'sale' | 'bonus' | 'clawback' | 'adjustment';
  amount: number;
  reversed_amount: number;
  clawed_back: number;
  currency: string;
  status: 'pending' | 'held' | 'payable' | 'paid' | 'reversed';
  occurred_at: Date;
  payable_at: Date;
  reason: string | null;
}

/** Where a page of commissions ends: the last row's (occurredAt, id). */
export interface CommissionCursor {
  occurredAt: string;
  id: string;
}

/** An opaque cursor encoding both keys of the (occurred_at, id) order. */
export function encodeCommissionCursor(c: CommissionCursor): string {
  return Buffer.from(`${c.occurredAt}|${c.id}`).toString('base64url');
}

export function decodeCommissionCursor(cursor: string | undefined): CommissionCursor | undefined {
  if (!cursor) return undefined;
  const [occurredAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (
    rest.length > 0 || !occurredAt || !id ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(occurredAt) || Number.isNaN(Date.parse(occurredAt)) ||
    !/^[a-z]{2,4}_[0-9a-z]{26}$/.test(id)
  ) {
    throw new ApiError('unprocessable', 'Invalid cursor', [{ path: 'cursor', message: 'is not a cursor from this list' }]);
  }
  return { occurredAt, id };
}

/**
 * The partner's commissions, newest first by when they occurred (a backdated sale or a bonus sorts
 * by its own date, not by when it was recorded); keyset on (occurred_at, id). No customer or sale ids.
 */
export async function portalCommissions(pool: pg.Pool, userId: string, enrollmentId: string, after: CommissionCursor | undefined, limit: number) {
  const o = await ownerOf(pool, userId, enrollmentId);
  const { rows } = await pool.query<CommissionRow>(
    `select id, kind, amount, reversed_amount, clawed_back, currency, status, occurred_at, payable_at, reason
       from commissions
      where workspace_id = $1 and program_id = $2 and partner_id = $3
        and ($4::timestamptz is null or (occurred_at, id) < ($4::timestamptz, $5::text))
      order by occurred_at desc, id desc limit $6`,
    [o.workspaceId, o.programId, o.partnerId, after?.occurredAt ?? null, after?.id ?? null, limit + 1],
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    amount: Number(r.amount),
    reversedAmount: Number(r.reversed_amount),
    clawedBack: Number(r.clawed_back),
    currency: r.currency,
    status: r.status,
    occurredAt: r.occurred_at.toISOString(),
    payableAt: r.payable_at.toISOString(),
    reason: r.reason,
  }));
}

export async function portalStatement(pool: pg.Pool, userId: string, enrollmentId: string): Promise<Statement> {
  const o = await ownerOf(pool, userId, enrollmentId);
  return partnerStatement(pool, o.workspaceId, o.programId, o.partnerId);
}

export async function portalEarnings(pool: pg.Pool, userId: string, enrollmentId: string, interval: EarningsInterval, now: Date) {
  const statement = await portalStatement(pool, userId, enrollmentId);
  return { currency: statement.program.currency, interval, points: earningsSeries(statement.lines, interval, now) };
}

/**
 * Recomputes the partner's one chain: every hash from the previous one, the sequence, the balance
 * of each entry, the stored head, and that the posting rows balances are summed from equal the
 * hashed postings. With `hash` (a head printed on an earlier statement) it also says at which
 * entry that hash still sits — an edited or deleted entry makes it disappear.
 */
export async function verifyPortalStatement(pool: pg.Pool, userId: string, enrollmentId: string, hash: string | undefined) {
  const o = await ownerOf(pool, userId, enrollmentId);
  const chain = chainOf(o.programId, o.partnerId);
  const { rows } = await pool.query<EntryRow>(`select ${ENTRY_COLUMNS} from ledger_entries where workspace_id = $1 and chain = $2 order by seq`, [o.workspaceId, chain]);
  const { rows: heads } = await pool.query<{ seq: number; hash: string }>('select seq, hash from ledger_heads where workspace_id = $1 and chain = $2', [o.workspaceId, chain]);
  const entries = rows.map(toChained);
  const storedHead = heads[0];
  // The head map is always given: a chain with entries and no head row is a problem too.
  const result = verifyChains(entries, new Map(storedHead ? [[chain, storedHead]] : []));
  // The posting rows the partner's balance is summed from, as GET /ledger/verify checks them.
  const problems = [...result.problems, ...(await postingProblems(pool, o.workspaceId, chain))];
  const last = entries[entries.length - 1];
  const checkedHash = hash === undefined ? null : { hash, foundAtSeq: entries.find((e) => e.hash === hash)?.seq ?? null };
  return {
    ok: problems.length === 0 && (checkedHash === null || checkedHash.foundAtSeq !== null),
    entries: entries.length,
    head: last ? { chain, seq: last.seq, hash: last.hash } : null,
    problems,
    checkedHash,
  };
}
