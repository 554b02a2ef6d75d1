import { describe, expect, it } from 'vitest';
import { canonicalJson, chainEntry, ChainVerifier, GENESIS_HASH, verifyChains, type ChainedEntry } from './chain.js';
import { accrue, isBalanced, move, payoutPaid } from './journal.js';

function buildChain(chain: string, count: number): ChainedEntry[] {
  const out: ChainedEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const e = chainEntry(prev, { chain, seq, id: `jen_${chain}_${seq}`, at: new Date(Date.UTC(2026, 0, seq)).toISOString(), kind: 'commission.sale', ref: `sale:${seq}`, currency: 'EUR', postings: accrue('prg', chain, 'pending', seq * 100) });
    out.push(e);
    prev = e.hash;
  }
  return out;
}

describe('canonical serialisation', () => {
  it('sorts keys at every depth so equal entries hash equally', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });
});

describe('journal entries', () => {
  it('every helper produces postings summing to zero', () => {
    for (const postings of [accrue('p', 'x', 'pending', 123), move('p', 'x', 'pending', 'payable', 5), payoutPaid('p', 'x', 77), accrue('p', 'x', 'payable', -40)]) {
      expect(isBalanced({ currency: 'EUR', postings })).toBe(true);
    }
  });
});

describe('verifyChains', () => {
  it('accepts intact chains with their heads', () => {
    const entries = [...buildChain('A', 5), ...buildChain('B', 3)];
    const heads = new Map([['A', { seq: 5, hash: entries[4]!.hash }], ['B', { seq: 3, hash: entries[7]!.hash }]]);
    expect(verifyChains(entries, heads)).toEqual({ ok: true, problems: [] });
  });
  it('detects an edited amount', () => {
    const entries = buildChain('A', 4);
    entries[1] = { ...entries[1]!, postings: accrue('prg', 'A', 'pending', 999) };
    expect(verifyChains(entries).problems).toEqual([{ chain: 'A', seq: 2, problem: 'hash_mismatch' }]);
  });
  it('detects an edit with a recomputed hash through the broken link', () => {
    const entries = buildChain('A', 4);
    const forged = chainEntry(entries[1]!.prevHash, { ...entries[1]!, postings: accrue('prg', 'A', 'pending', 999) });
    entries[1] = forged;
    expect(verifyChains(entries).problems).toEqual([{ chain: 'A', seq: 3, problem: 'broken_link' }]);
  });
  it('detects a deleted entry in the middle and at the end (against the head)', () => {
    const entries = buildChain('A', 4);
    const head = new Map([['A', { seq: 4, hash: entries[3]!.hash }]]);
    expect(verifyChains([entries[0]!, entries[2]!, entries[3]!]).problems.map((p) => p.problem)).toEqual(['sequence_gap', 'broken_link']);
    expect(verifyChains(entries.slice(0, 3), head).problems).toEqual([{ chain: 'A', seq: 4, problem: 'head_mismatch' }]);
    expect(verifyChains([], head).ok).toBe(false);
  });
  it('detects an unbalanced entry even when its hash was recomputed', () => {
    const [only] = buildChain('A', 1);
    const forged = chainEntry(GENESIS_HASH, { ...only!, postings: [{ account: 'x', amount: 1 }] });
    expect(verifyChains([forged]).problems).toEqual([{ chain: 'A', seq: 1, problem: 'unbalanced' }]);
  });
});

describe('ChainVerifier (streaming)', () => {
  const chainOf = (chain: string, n: number) => {
    const out: ChainedEntry[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= n; seq++) {
      const e = chainEntry(prev, { chain, seq, id: `jen_${chain}${seq}`, at: '2026-01-01T00:00:00.000Z', kind: 'commission.sale', ref: null, currency: 'USD', postings: [{ account: 'a', amount: 5 }, { account: 'b', amount: -5 }] });
      out.push(e);
      prev = e.hash;
    }
    return out;
  };

  it('needs each chain together and in order, and keeps a bounded list of problems', () => {
    const a = chainOf('A', 3);
    const b = chainOf('B', 2);
    const verifier = new ChainVerifier();
    for (const e of [...a, ...b]) verifier.add(e);
    expect(verifier.finish()).toEqual({ ok: true, problems: [] });
    const interleaved = new ChainVerifier();
    interleaved.add(a[0]!);
    interleaved.add(b[0]!);
    expect(() => interleaved.add(a[1]!)).toThrow(/must arrive together/);
    const bounded = new ChainVerifier(undefined, 2);
    for (const e of chainOf('C', 5)) bounded.add({ ...e, hash: 'f'.repeat(64) });
    expect(bounded.finish().problems).toHaveLength(2);
  });
});

