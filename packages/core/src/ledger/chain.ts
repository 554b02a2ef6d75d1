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
  /**
   * `head_mismatch`: the recorded head is not the chain's newest entry, or is missing for a chain
   * with entries; `orphan_posting`: a posting row no entry of its chain accounts for (seq 0).
   */
  problem: 'hash_mismatch' | 'broken_link' | 'sequence_gap' | 'unbalanced' | 'head_mismatch' | 'orphan_posting';
}

/**
 * Verifies entries fed in (chain, seq) order, one at a time, keeping only each chain's last link:
 * a ledger of any size is checked in constant memory while it streams from the database.
 */
export class ChainVerifier {
  readonly problems: ChainProblem[] = [];
  private chain: string | null = null;
  private prev = GENESIS_HASH;
  private expectedSeq = 1;
  private readonly seen = new Set<string>();

  constructor(
    private readonly heads?: ReadonlyMap<string, { seq: number; hash: string }>,
    /** Problems kept at most (a badly damaged ledger still answers with a bounded report). */
    private readonly maxProblems = 1000,
  ) {}

  add(e: ChainedEntry): void {
    if (e.chain !== this.chain) {
      this.closeChain();
      if (this.seen.has(e.chain)) throw new Error(`entries of chain ${e.chain} must arrive together, in seq order`);
      this.seen.add(e.chain);
      this.chain = e.chain;
      this.prev = GENESIS_HASH;
      this.expectedSeq = 1;
    }
    if (e.seq !== this.expectedSeq) this.report(e.chain, e.seq, 'sequence_gap');
    if (e.prevHash !== this.prev) this.report(e.chain, e.seq, 'broken_link');
    if (entryHash(e.prevHash, e) !== e.hash) this.report(e.chain, e.seq, 'hash_mismatch');
    if (e.postings.reduce((sum, p) => sum + p.amount, 0) !== 0) this.report(e.chain, e.seq, 'unbalanced');
    this.prev = e.hash;
    this.expectedSeq = e.seq + 1;
  }

  /** Ends the stream: checks the last chain's head and heads whose chain had no entry at all. */
  finish(): { ok: boolean; problems: ChainProblem[] } {
    this.closeChain();
    if (this.heads) for (const [chain, head] of this.heads) if (!this.seen.has(chain)) this.report(chain, head.seq, 'head_mismatch');
    return { ok: this.problems.length === 0, problems: this.problems };
  }

  private closeChain(): void {
    // A chain is open only once one of its entries was added: its last one is (expectedSeq - 1, prev).
    if (this.chain === null) return;
    const head = this.heads?.get(this.chain);
    // Heads given but none for this chain: deleting a chain's head row with its newest entries
    // would otherwise hide those deletions.
    if (this.heads && !head) this.report(this.chain, this.expectedSeq - 1, 'head_mismatch');
    else if (head && (head.seq !== this.expectedSeq - 1 || head.hash !== this.prev)) this.report(this.chain, head.seq, 'head_mismatch');
    this.chain = null;
  }

  private report(chain: string, seq: number, problem: ChainProblem['problem']): void {
    if (this.problems.length < this.maxProblems) this.problems.push({ chain, seq, problem });
  }
}

/**
 * Verifies entries (any order, any number of chains) and, when given, the recorded head of each
 * chain (`{seq, hash}` of its newest entry) so that deleting the newest entries is detected too.
 */
export function verifyChains(entries: readonly ChainedEntry[], heads?: ReadonlyMap<string, { seq: number; hash: string }>): { ok: boolean; problems: ChainProblem[] } {
  const verifier = new ChainVerifier(heads, Number.POSITIVE_INFINITY);
  const ordered = [...entries].sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : a.seq - b.seq));
  for (const e of ordered) verifier.add(e);
  return verifier.finish();
}
