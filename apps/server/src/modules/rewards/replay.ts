import type pg from 'pg';
import type { RulesDocument } from '@tandem/contracts';
import { accountBalances, netAmount, partnerBalance, replayProgram, type RewardEvent } from '@tandem/core';
import { rulesVersionOf } from './context.js';

/*
 * `tandem rewards replay --program <id>`: recomputes every commission of a program from its reward
 * event log with the stored rules versions (the pure engine, whole stream) and compares commission
 * by commission, and balance by balance, with what the server wrote incrementally.
 */

interface LoggedEvent {
  type: string;
  payload: Record<string, unknown>;
}

const date = (v: unknown) => new Date(String(v));

/** The log row → the engine's event (dates revived). */
export function toRewardEvent(e: LoggedEvent): RewardEvent {
  const p = e.payload;
  switch (e.type) {
    case 'lead':
    case 'sale':
      return { ...(p as object), type: e.type, occurredAt: date(p.occurredAt) } as RewardEvent;
    case 'refund':
    case 'adjustment':
      return { ...(p as object), type: e.type, occurredAt: date(p.occurredAt) } as RewardEvent;
    case 'mature':
      return { type: 'mature', asOf: date(p.asOf), rulesVersion: Number(p.rulesVersion), withheldFrom: Array.isArray(p.withheldFrom) ? p.withheldFrom.map(String) : [] };
    case 'hold':
    case 'release':
    case 'reverse':
      return { type: e.type, commissionKey: String(p.commissionKey) };
    case 'payout':
      return { type: 'payout', payoutId: String(p.payoutId), partnerId: String(p.partnerId), minAmount: Number(p.minAmount) };
    case 'payout_paid':
    case 'payout_failed':
      return { type: e.type, payoutId: String(p.payoutId) };
    case 'partnership_settlement': {
      const items = (p.commissions ?? []) as { key: string; offset: number; rest: number }[];
      return {
        type: 'settlement',
        settlementId: String(p.settlementId),
        partnerId: String(p.partnerId),
        offset: Number(p.offset),
        commissions: items.map((i) => ({ key: String(i.key), offset: Number(i.offset), rest: Number(i.rest) })),
      };
    }
    default:
      throw new Error(`unknown reward event type ${e.type}`);
  }
}

export interface ReplayReport {
  programId: string;
  events: number;
  commissions: number;
  differences: string[];
}

export async function replayStoredProgram(pool: pg.Pool, programId: string): Promise<ReplayReport> {
  const { rows: programRows } = await pool.query<{ workspace_id: string; currency: string }>('select workspace_id, currency from programs where id = $1', [programId]);
  const program = programRows[0];
  if (!program) throw new Error(`no program ${programId}`);
  const workspaceId = program.workspace_id;
  const { rows: logged } = await pool.query<LoggedEvent>('select type, payload from reward_events where workspace_id = $1 and program_id = $2 order by seq', [workspaceId, programId]);
  const events = logged.map(toRewardEvent);
  const rules = new Map<number, RulesDocument>([[0, {}]]);
  for (const e of events) {
    const version = 'rulesVersion' in e ? e.rulesVersion : null;
    if (version && !rules.has(version)) {
      const doc = await rulesVersionOf(pool, workspaceId, programId, version);
      if (!doc) throw new Error(`rules version ${version} of ${programId} is missing`);
      rules.set(version, doc);
    }
  }
  const book = replayProgram(programId, program.currency, rules, events);

  const differences: string[] = [];
  const { rows: stored } = await pool.query<{ key: string; kind: string; partner_id: string; amount: number; reversed_amount: number; clawed_back: number; status: string; reason: string | null; rules_version: number; payout_id: string | null }>(
    'select key, kind, partner_id, amount, reversed_amount, clawed_back, status, reason, rules_version, payout_id from commissions where workspace_id = $1 and program_id = $2',
    [workspaceId, programId],
  );
  const storedByKey = new Map(stored.map((c) => [c.key, c]));
  for (const [key, c] of book.commissions) {
    const s = storedByKey.get(key);
    if (!s) {
      differences.push(`${key}: replay computes ${c.kind} ${c.amount}, not stored`);
      continue;
    }
    const expected = { kind: c.kind, partner: c.partnerId, amount: c.amount, reversed: c.reversedAmount, clawedBack: c.clawedBack, status: c.status, reason: c.reason, rulesVersion: c.rulesVersion, payout: c.payoutId };
    const actual = { kind: s.kind, partner: s.partner_id, amount: s.amount, reversed: s.reversed_amount, clawedBack: s.clawed_back, status: s.status, reason: s.reason, rulesVersion: s.rules_version, payout: s.payout_id };
    for (const field of Object.keys(expected) as (keyof typeof expected)[]) {
      if (expected[field] !== actual[field]) differences.push(`${key}: ${field} stored ${String(actual[field])}, replay ${String(expected[field])}`);
    }
  }
  for (const s of stored) if (!book.commissions.has(s.key)) differences.push(`${s.key}: stored ${s.kind} ${s.amount}, replay computes none`);

  // Balances: the stored postings against the replayed journal, per partner and bucket.
  const { rows: postings } = await pool.query<{ account: string; total: number }>('select account, sum(amount) as total from ledger_postings where workspace_id = $1 and program_id = $2 group by account', [workspaceId, programId]);
  const storedBalances = new Map(postings.map((p) => [p.account, Number(p.total)]));
  const replayed = accountBalances(book.entries);
  const partners = new Set([...stored.map((s) => s.partner_id), ...[...book.commissions.values()].map((c) => c.partnerId)]);
  for (const partnerId of partners) {
    const a = partnerBalance(storedBalances, programId, partnerId);
    const b = partnerBalance(replayed, programId, partnerId);
    for (const bucket of ['pending', 'payable', 'paid'] as const) if (a[bucket] !== b[bucket]) differences.push(`${partnerId} ${bucket}: stored ${a[bucket]}, replay ${b[bucket]}`);
  }
  const netTotal = [...book.commissions.values()].reduce((sum, c) => sum + netAmount(c), 0);
  const expense = storedBalances.get(`program:${programId}:expense`) ?? 0;
  if (expense !== netTotal) differences.push(`program expense: stored ${expense}, replay ${netTotal}`);
  return { programId, events: events.length, commissions: book.commissions.size, differences };
}
