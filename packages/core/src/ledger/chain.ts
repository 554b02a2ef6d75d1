import { createHash } from 'node:crypto';
import type { Posting } from './journal.js';

/*
 * Hash chain over journal entries: `hash = sha256(prevHash ‖ canonical(entry))`. There is one
 * chain per (program, partner) — see docs/decisions/0004-ledger-chain.md — so concurrent writers for
 * different partners never contend on one chain head. Editing any entry changes its hash and breaks
 * every later link; deleting one leaves a gap in `seq`; deleting the newest is caught against the
 * stored chain head (and against a head a partner kept from a statement).
 */

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedEntryBody {
  chain: string;
  seq: number;
  id: string;
  /** ISO instant. */
  at: string;
  kind: string;
  ref: string | null;
  currency: string;
  postings: Posting[];
}
export interface ChainedEntry extends ChainedEntryBody {
  prevHash: string;
  hash: string;
}

/** JSON with object keys sorted at every depth: the same entry always serialises to the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function entryHash(prevHash: string, body: ChainedEntryBody): string {
  const canonical = canonicalJson({ chain: body.chain, seq: body.seq, id: body.id, at: body.at, kind: body.kind, ref: body.ref, currency: body.currency, postings: body.postings });
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

export function chainEntry(prevHash: string, body: ChainedEntryBody): ChainedEntry {
  return { ...body, prevHash, hash: entryHash(prevHash, body) };
}

export interface ChainProblem {
  chain: string;
  seq: number;
  problem: 'hash_mismatch' | 'broken_link' | 'sequence_gap' | 'unbalanced' | 'head_mismatch';
}

/**
 * Verifies entries (any order, any number of chains) and, when given, the recorded head of each
 * chain (`{seq, hash}` of its newest entry) so that deleting the newest entries is detected too.
 */
export function verifyChains(entries: readonly ChainedEntry[], heads?: ReadonlyMap<string, { seq: number; hash: string }>): { ok: boolean; problems: ChainProblem[] } {
  const byChain = new Map<string, ChainedEntry[]>();
  for (const e of entries) {
    const list = byChain.get(e.chain) ?? [];
    list.push(e);
    byChain.set(e.chain, list);
  }
  const problems: ChainProblem[] = [];
  for (const [chain, list] of byChain) {
    list.sort((a, b) => a.seq - b.seq);
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    for (const e of list) {
      if (e.seq !== expectedSeq) problems.push({ chain, seq: e.seq, problem: 'sequence_gap' });
      if (e.prevHash !== prev) problems.push({ chain, seq: e.seq, problem: 'broken_link' });
      if (entryHash(e.prevHash, e) !== e.hash) problems.push({ chain, seq: e.seq, problem: 'hash_mismatch' });
      if (e.postings.reduce((s, p) => s + p.amount, 0) !== 0) problems.push({ chain, seq: e.seq, problem: 'unbalanced' });
      prev = e.hash;
      expectedSeq = e.seq + 1;
    }
    const head = heads?.get(chain);
    const last = list[list.length - 1]!;
    if (head && (head.seq !== last.seq || head.hash !== last.hash)) problems.push({ chain, seq: head.seq, problem: 'head_mismatch' });
  }
  if (heads) {
    for (const [chain, head] of heads) if (!byChain.has(chain)) problems.push({ chain, seq: head.seq, problem: 'head_mismatch' });
  }
  return { ok: problems.length === 0, problems };
}
