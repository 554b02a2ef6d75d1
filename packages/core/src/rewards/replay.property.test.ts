import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rulesDocument, type RulesDocument } from '@tandem/contracts';
import { accountBalances, isBalanced, partnerBalance } from '../ledger/journal.js';
import { netAmount, replayProgram, type ProgramBook, type RewardEvent } from './replay.js';

/*
 * Properties over random event streams (sales, duplicate sales, refunds, maturity runs, holds,
 * reversals, adjustments, payouts paid or failed) under several rule sets.
 */

const ruleSets: RulesDocument[] = [
  { sale: { type: 'percentage', amount: 10 }, qualification: { holdDays: 3, minSaleAmount: 0 } },
  {
    lead: { type: 'flat', amount: 300 },
    sale: { type: 'percentage', amount: 12.5, duration: { months: 1 } },
    tiers: { period: 'month', levels: [{ min: 1, type: 'percentage', amount: 20 }, { min: 3, type: 'flat', amount: 2500 }] },
    bonuses: [
      { kind: 'milestone', period: 'month', threshold: 2, amount: 1000 },
      { kind: 'early_bird', period: 'month', first: 3, scope: 'program', amount: 250 },
    ],
    boosts: [{ from: '2026-01-10T00:00:00Z', to: '2026-01-20T00:00:00Z', multiplier: 1.5, partnerTags: ['launch'] }],
    cap: { period: 'month', amount: 6000 },
    qualification: { holdDays: 5, minSaleAmount: 2000 },
  },
  { sale: { type: 'flat', amount: 999, duration: 'once' }, cap: { period: 'quarter', amount: 2500 }, qualification: { holdDays: 0, minSaleAmount: 0 } },
].map((r) => rulesDocument.parse(r));

const partners = ['P1', 'P2', 'P3'];
const customers = ['C1', 'C2', 'C3', 'C4', 'C5'];
const start = Date.UTC(2026, 0, 1);
const day = 86_400_000;

/** An event stream whose times move forward; refunds, holds and payouts name earlier objects by index. */
const streamArb = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ t: fc.constant('sale' as const), partner: fc.constantFrom(...partners), customer: fc.constantFrom(...customers), amount: fc.integer({ min: 0, max: 60_000 }), dup: fc.boolean() }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('lead' as const), partner: fc.constantFrom(...partners), customer: fc.constantFrom(...customers) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('refund' as const), pick: fc.nat(), amount: fc.integer({ min: 1, max: 70_000 }) }) },
      { weight: 2, arbitrary: fc.record({ t: fc.constant('mature' as const) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('hold' as const, 'release' as const, 'reverse' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('adjustment' as const), partner: fc.constantFrom(...partners), amount: fc.integer({ min: -2000, max: 2000 }) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('payout' as const), partner: fc.constantFrom(...partners), min: fc.integer({ min: 0, max: 3000 }) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('payout_paid' as const, 'payout_failed' as const), pick: fc.nat() }) },
    ),
    { maxLength: 60 },
  )
  .chain((steps) => fc.tuple(fc.constant(steps), fc.array(fc.integer({ min: 0, max: 4 * day }), { minLength: steps.length, maxLength: steps.length })));

type Steps = typeof streamArb extends fc.Arbitrary<infer T> ? T : never;

function toEvents(steps: Steps): RewardEvent[] {
  const [items, gaps] = steps;
  const events: RewardEvent[] = [];
  const sales: string[] = [];
  const payouts: string[] = [];
  const keys: string[] = [];
  let now = start;
  items.forEach((item, i) => {
    now += gaps[i]!;
    const at = new Date(now);
    switch (item.t) {
      case 'sale': {
        const saleId = item.dup && sales.length > 0 ? sales[sales.length - 1]! : `S${i}`;
        if (saleId === `S${i}`) sales.push(saleId);
        keys.push(`sale:${saleId}`);
        events.push({ type: 'sale', saleId, partnerId: item.partner, customerId: item.customer, amount: item.amount, currency: 'EUR', productId: null, occurredAt: at, customerCountry: null, rulesVersion: 1, approved: true, partnerTags: item.partner === 'P1' ? ['launch'] : [] });
        return;
      }
      case 'lead':
        keys.push(`lead:${item.partner}:${item.customer}`);
        events.push({ type: 'lead', leadId: `L${i}`, partnerId: item.partner, customerId: item.customer, occurredAt: at, customerCountry: null, rulesVersion: 1, approved: true, partnerTags: [] });
        return;
      case 'refund':
        if (sales.length) events.push({ type: 'refund', refundId: `R${i}`, saleId: sales[item.pick % sales.length]!, amount: item.amount, occurredAt: at });
        return;
      case 'mature':
        events.push({ type: 'mature', asOf: at, rulesVersion: 1 });
        return;
      case 'hold':
      case 'release':
      case 'reverse':
        if (keys.length) events.push({ type: item.t, commissionKey: keys[item.pick % keys.length]! });
        return;
      case 'adjustment':
        events.push({ type: 'adjustment', adjustmentId: `A${i}`, partnerId: item.partner, amount: item.amount, occurredAt: at });
        return;
      case 'payout':
        payouts.push(`PO${i}`);
        events.push({ type: 'payout', payoutId: `PO${i}`, partnerId: item.partner, minAmount: item.min });
        return;
      case 'payout_paid':
      case 'payout_failed':
        if (payouts.length) events.push({ type: item.t, payoutId: payouts[item.pick % payouts.length]! });
        return;
    }
  });
  return events;
}

const arb = fc.tuple(fc.nat({ max: ruleSets.length - 1 }), streamArb).map(([ruleIndex, steps]) => ({ rules: new Map([[1, ruleSets[ruleIndex]!]]), events: toEvents(steps) }));

function bucketsFromCommissions(book: ProgramBook, partnerId: string) {
  const sums = { pending: 0, payable: 0, paid: 0 };
  for (const c of book.commissions.values()) {
    if (c.partnerId !== partnerId || c.status === 'reversed') continue;
    sums[c.status === 'held' ? 'pending' : c.status] += netAmount(c);
  }
  return sums;
}

describe('ledger properties over random event streams', () => {
  it('every journal entry balances, so the whole ledger balances', () => {
    fc.assert(
      fc.property(arb, ({ rules, events }) => {
        const book = replayProgram('prg', 'EUR', rules, events);
        expect(book.entries.every(isBalanced)).toBe(true);
        expect([...accountBalances(book.entries).values()].reduce((a, b) => a + b, 0)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('replay is deterministic: the same stream gives the same commissions and entries', () => {
    fc.assert(
      fc.property(arb, ({ rules, events }) => {
        const a = replayProgram('prg', 'EUR', rules, events);
        const b = replayProgram('prg', 'EUR', rules, events);
        expect([...b.commissions.entries()]).toEqual([...a.commissions.entries()]);
        expect(b.entries).toEqual(a.entries);
      }),
      { numRuns: 100 },
    );
  });

  it('pending + payable + paid per partner equals the sum of its non-reversed commissions, bucket by bucket', () => {
    fc.assert(
      fc.property(arb, ({ rules, events }) => {
        const book = replayProgram('prg', 'EUR', rules, events);
        const balances = accountBalances(book.entries);
        for (const p of partners) {
          const ledger = partnerBalance(balances, 'prg', p);
          expect(ledger).toEqual(bucketsFromCommissions(book, p));
          const total = [...book.commissions.values()].filter((c) => c.partnerId === p && c.status !== 'reversed').reduce((s, c) => s + netAmount(c), 0);
          expect(ledger.pending + ledger.payable + ledger.paid).toBe(total);
        }
        // The program's expense equals everything it owes or paid its partners.
        expect(balances.get('program:prg:expense') ?? 0).toBe([...book.commissions.values()].reduce((s, c) => s + netAmount(c), 0));
      }),
      { numRuns: 300 },
    );
  });

  it('no event order makes a balance drift: any shuffled stream keeps buckets equal to commissions', () => {
    fc.assert(
      fc.property(arb, fc.infiniteStream(fc.nat()), ({ rules, events }, rand) => {
        const shuffled = [...events];
        const it = rand[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value! % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const book = replayProgram('prg', 'EUR', rules, shuffled);
        const balances = accountBalances(book.entries);
        for (const p of partners) expect(partnerBalance(balances, 'prg', p)).toEqual(bucketsFromCommissions(book, p));
        for (const c of book.commissions.values()) {
          if (c.kind === 'sale' || c.kind === 'lead' || c.kind === 'bonus') expect(netAmount(c)).toBeGreaterThanOrEqual(0);
          if (c.kind === 'sale') expect(c.reversedAmount + c.clawedBack).toBeLessThanOrEqual(c.amount);
        }
        for (const payout of book.payouts.values()) expect(payout.amount).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
