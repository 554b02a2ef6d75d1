import { describe, expect, it } from 'vitest';
import { rulesDocument, type RulesDocument } from '@tandem/contracts';
import { accountBalances, partnerBalance } from '../ledger/journal.js';
import { compareQualification, newReferral, planMaturity, refundReduction, type Referral } from './lifecycle.js';
import { commissionKeys, replayProgram, type RewardEvent } from './replay.js';

const d = (iso: string) => new Date(`${iso}T00:00:00Z`);
const rulesMap = (doc: unknown) => new Map<number, RulesDocument>([[1, rulesDocument.parse(doc)]]);
const saleEvent = (saleId: string, customerId: string, amount: number, at: string, partnerId = 'P', extra: Partial<RewardEvent & { type: 'sale' }> = {}): RewardEvent => ({
  type: 'sale', saleId, partnerId, customerId, amount, currency: 'EUR', productId: null, occurredAt: d(at), customerCountry: null, rulesVersion: 1, approved: true, partnerTags: [], ...extra,
});

describe('the worked example of rewards.md', () => {
  const rules = rulesMap({
    sale: { type: 'percentage', amount: 10 },
    tiers: { period: 'quarter', levels: [{ min: 2, type: 'percentage', amount: 15 }] },
    qualification: { holdDays: 30 },
    bonuses: [{ kind: 'milestone', period: 'quarter', threshold: 2, amount: 5000 }],
  });
  const events: RewardEvent[] = [saleEvent('S1', 'C1', 10_000, '2026-01-05'), saleEvent('S2', 'C2', 20_000, '2026-01-10')];

  it('follows every line of the example', () => {
    const book = replayProgram('prg', 'EUR', rules, events);
    const s1 = book.commissions.get('sale:S1')!;
    const s2 = book.commissions.get('sale:S2')!;
    expect([s1.amount, s1.status, s1.payableAt]).toEqual([1000, 'pending', d('2026-02-04')]);
    expect([s2.amount, s2.status, s2.payableAt]).toEqual([2000, 'pending', d('2026-02-09')]);

    const more: RewardEvent[] = [
      ...events,
      { type: 'mature', asOf: d('2026-02-10'), rulesVersion: 1 },
    ];
    const matured = replayProgram('prg', 'EUR', rules, more);
    expect(matured.commissions.get('sale:S1')!.status).toBe('payable');
    expect(matured.commissions.get('sale:S2')!.status).toBe('payable');
    expect(matured.referrals.get('P|C1')).toMatchObject({ qualified: true, qualifiedAt: d('2026-02-04') });
    expect(matured.referrals.get('P|C2')).toMatchObject({ qualified: true, qualifiedAt: d('2026-02-09') });
    const bonus = matured.commissions.get('bonus:0:2026-Q1:P')!;
    expect(bonus).toMatchObject({ kind: 'bonus', amount: 5000, status: 'payable', occurredAt: d('2026-02-09'), customerId: 'C2' });

    const all: RewardEvent[] = [
      ...more,
      saleEvent('S3', 'C1', 10_000, '2026-02-15'),
      { type: 'payout', payoutId: 'po1', partnerId: 'P', minAmount: 0 },
      { type: 'payout_paid', payoutId: 'po1' },
      { type: 'refund', refundId: 'R1', saleId: 'S2', amount: 20_000, occurredAt: d('2026-03-01') },
    ];
    const book2 = replayProgram('prg', 'EUR', rules, all);
    const s3 = book2.commissions.get('sale:S3')!;
    expect(s3.amount).toBe(1500);
    expect(s3.explanation.find((s) => s.step === 'tier')!.text).toContain('q = 2');
    const clawback = book2.commissions.get(commissionKeys.clawback('R1', 'sale:S2'))!;
    expect(clawback).toMatchObject({ kind: 'clawback', amount: -2000, status: 'payable' });
    expect(book2.commissions.get('sale:S2')!.status).toBe('paid');
    expect(partnerBalance(accountBalances(book2.entries), 'prg', 'P')).toEqual({ pending: 1500, payable: -2000, paid: 8000 });
  });
});

describe('refunds', () => {
  const rules = rulesMap({ sale: { type: 'percentage', amount: 10 }, qualification: { holdDays: 10 } });
  it('reverses proportionally while unpaid and marks reversed when fully reduced', () => {
    const book = replayProgram('prg', 'EUR', rules, [
      saleEvent('S1', 'C1', 10_000, '2026-01-01'),
      { type: 'refund', refundId: 'R1', saleId: 'S1', amount: 2500, occurredAt: d('2026-01-02') },
    ]);
    expect(book.commissions.get('sale:S1')).toMatchObject({ amount: 1000, reversedAmount: 250, status: 'pending' });
    const full = replayProgram('prg', 'EUR', rules, [
      saleEvent('S1', 'C1', 10_000, '2026-01-01'),
      { type: 'refund', refundId: 'R1', saleId: 'S1', amount: 2500, occurredAt: d('2026-01-02') },
      { type: 'refund', refundId: 'R2', saleId: 'S1', amount: 7500, occurredAt: d('2026-01-03') },
    ]);
    expect(full.commissions.get('sale:S1')).toMatchObject({ reversedAmount: 1000, status: 'reversed' });
    expect(partnerBalance(accountBalances(full.entries), 'prg', 'P')).toEqual({ pending: 0, payable: 0, paid: 0 });
  });
  it('never reduces by more than the remainder of the commission', () => {
    // Rounding: three refunds of a third each would reduce 333 + 333 + 333 = 999 of 1000 … the last clamps.
    expect(refundReduction({ amount: 1000, alreadyReduced: 900, status: 'pending', inPayout: false }, 10_000, 5000)).toEqual({ reduction: 100, mode: 'reversal' });
    expect(refundReduction({ amount: 1000, alreadyReduced: 1000, status: 'pending', inPayout: false }, 10_000, 5000).reduction).toBe(0);
    const book = replayProgram('prg', 'EUR', rules, [
      saleEvent('S1', 'C1', 10_000, '2026-01-01'),
      { type: 'refund', refundId: 'R1', saleId: 'S1', amount: 9000, occurredAt: d('2026-01-02') },
      { type: 'refund', refundId: 'R2', saleId: 'S1', amount: 9000, occurredAt: d('2026-01-03') },
    ]);
    expect(book.commissions.get('sale:S1')).toMatchObject({ reversedAmount: 1000, status: 'reversed' });
  });
  it('claws back after payout, lowering payable below zero, netted by the next payout', () => {
    const book = replayProgram('prg', 'EUR', rules, [
      saleEvent('S1', 'C1', 10_000, '2026-01-01'),
      { type: 'mature', asOf: d('2026-01-11'), rulesVersion: 1 },
      { type: 'payout', payoutId: 'po1', partnerId: 'P', minAmount: 0 },
      { type: 'payout_paid', payoutId: 'po1' },
      { type: 'refund', refundId: 'R1', saleId: 'S1', amount: 4000, occurredAt: d('2026-01-20') },
      saleEvent('S2', 'C2', 30_000, '2026-01-21'),
      { type: 'mature', asOf: d('2026-02-01'), rulesVersion: 1 },
      { type: 'payout', payoutId: 'po2', partnerId: 'P', minAmount: 0 },
    ]);
    expect(book.commissions.get(commissionKeys.clawback('R1', 'sale:S1'))).toMatchObject({ amount: -400, status: 'payable', payoutId: 'po2' });
    expect(book.payouts.get('po2')).toMatchObject({ amount: 2600, status: 'pending' });
    expect(partnerBalance(accountBalances(book.entries), 'prg', 'P')).toEqual({ pending: 0, payable: 2600, paid: 1000 });
  });
  it('a payout below minAmount or not positive is not created; a failed payout returns commissions to payable', () => {
    const book = replayProgram('prg', 'EUR', rules, [
      saleEvent('S1', 'C1', 10_000, '2026-01-01'),
      { type: 'mature', asOf: d('2026-01-11'), rulesVersion: 1 },
      { type: 'payout', payoutId: 'po0', partnerId: 'P', minAmount: 1001 },
      { type: 'payout', payoutId: 'po1', partnerId: 'P', minAmount: 1000 },
      { type: 'payout_failed', payoutId: 'po1' },
    ]);
    expect(book.payouts.has('po0')).toBe(false);
    expect(book.payouts.get('po1')!.status).toBe('failed');
    expect(book.commissions.get('sale:S1')).toMatchObject({ status: 'payable', payoutId: null });
  });
  it('a full refund of the first sale before qualifiedAt disqualifies the referral; a partial one does not', () => {
    const qualifying = (refund: number, at: string) =>
      replayProgram('prg', 'EUR', rules, [
        saleEvent('S1', 'C1', 10_000, '2026-01-01'),
        { type: 'refund', refundId: 'R1', saleId: 'S1', amount: refund, occurredAt: d(at) },
        { type: 'mature', asOf: d('2026-02-01'), rulesVersion: 1 },
      ]).referrals.get('P|C1')!;
    expect(qualifying(10_000, '2026-01-10')).toMatchObject({ disqualified: true, qualified: false });
    expect(qualifying(9_999, '2026-01-10')).toMatchObject({ disqualified: false, qualified: true });
    expect(qualifying(10_000, '2026-01-11')).toMatchObject({ disqualified: false, qualified: true }); // at qualifiedAt: too late
  });
  it('a refund of a sale a dispute moved to another partner touches that partner\'s referral, not the first one\'s (as the server does)', () => {
    const referralAfter = (partnerId: string | undefined) =>
      replayProgram('prg', 'EUR', rules, [
        saleEvent('S1', 'C1', 10_000, '2026-01-01'),
        { type: 'refund', refundId: 'R1', saleId: 'S1', amount: 10_000, occurredAt: d('2026-01-10'), ...(partnerId ? { partnerId } : {}) },
        { type: 'mature', asOf: d('2026-02-01'), rulesVersion: 1 },
      ]).referrals.get('P|C1')!;
    expect(referralAfter('Q')).toMatchObject({ disqualified: false, qualified: true });
    expect(referralAfter('P')).toMatchObject({ disqualified: true });
    // Logged before refunds named the partner: the sale's own partner.
    expect(referralAfter(undefined)).toMatchObject({ disqualified: true });
  });
  it('a credit a re-attribution gave for a sale is reduced by that sale\'s later refunds, in proportion to its base', () => {
    const book = replayProgram('prg', 'EUR', rulesMap({ sale: { type: 'percentage', amount: 10 } }), [
      saleEvent('S1', 'C1', 10_000, '2026-01-01'),
      { type: 'refund', refundId: 'R0', saleId: 'S1', amount: 4_000, occurredAt: d('2026-01-02'), partnerId: 'P' },
      { type: 'reverse', commissionKey: 'sale:S1' },
      { type: 'adjustment', adjustmentId: 'A1', partnerId: 'Q', amount: 600, occurredAt: d('2026-01-03'), saleId: 'S1', saleBase: 6_000 },
      { type: 'refund', refundId: 'R1', saleId: 'S1', amount: 3_000, occurredAt: d('2026-01-04'), partnerId: 'Q' },
    ]);
    expect(book.commissions.get('adjustment:A1')).toMatchObject({ amount: 600, reversedAmount: 300, status: 'payable' });
    expect(book.sales.get('S1')!.refunded).toBe(7_000);
  });
  it('a first sale below minSaleAmount never qualifies', () => {
    const r = rulesDocument.parse({ qualification: { holdDays: 0, minSaleAmount: 5000 } });
    expect(newReferral(r, { partnerId: 'P', customerId: 'C', saleId: 'S', occurredAt: d('2026-01-01'), amount: 4999 }).qualifiedAt).toBeNull();
    expect(newReferral(r, { partnerId: 'P', customerId: 'C', saleId: 'S', occurredAt: d('2026-01-01'), amount: 5000 }).qualifiedAt).toEqual(d('2026-01-01'));
  });
});

describe('maturity and bonuses', () => {
  const referral = (partnerId: string, customerId: string, firstSaleAt: string, qualifiedAt: string): Referral => ({
    partnerId, customerId, firstSaleId: `s-${customerId}`, firstSaleAt: d(firstSaleAt), firstSaleAmount: 100, qualifiedAt: d(qualifiedAt), disqualified: false, qualified: false,
  });
  const input = (candidates: Referral[], qualifiedBefore: Referral[] = []) => ({ candidates, qualifiedBefore, capEarnings: () => 0, awardedKeys: new Set<string>() });

  it('orders early birds by qualifiedAt, then first sale, then customer id', () => {
    const rules = rulesDocument.parse({ bonuses: [{ kind: 'early_bird', period: 'month', first: 2, scope: 'program', amount: 100 }] });
    const plan = planMaturity(rules, d('2026-02-01'), input([
      referral('P1', 'c3', '2026-01-01', '2026-01-10'),
      referral('P2', 'c2', '2026-01-01', '2026-01-10'),
      referral('P3', 'c1', '2026-01-02', '2026-01-10'),
      referral('P4', 'c0', '2026-01-01', '2026-01-11'),
    ]));
    expect(plan.bonuses.map((b) => b.customerId)).toEqual(['c2', 'c3']);
    expect([...plan.qualified].sort(compareQualification).map((r) => r.customerId)).toEqual(['c2', 'c3', 'c1', 'c0']);
  });
  it('per-partner early birds count each partner separately and respect earlier runs', () => {
    const rules = rulesDocument.parse({ bonuses: [{ kind: 'early_bird', period: 'month', first: 1, scope: 'partner', amount: 100 }] });
    const plan = planMaturity(rules, d('2026-02-01'), input(
      [referral('P1', 'a', '2026-01-01', '2026-01-10'), referral('P2', 'b', '2026-01-01', '2026-01-11'), referral('P1', 'c', '2026-01-01', '2026-01-12')],
      [{ ...referral('P2', 'z', '2026-01-01', '2026-01-05'), qualified: true }],
    ));
    expect(plan.bonuses.map((b) => `${b.partnerId}:${b.customerId}`)).toEqual(['P1:a']);
  });
  it('a milestone is paid once, at the referral that makes the count equal to threshold, per period', () => {
    const rules = rulesDocument.parse({ bonuses: [{ kind: 'milestone', period: 'month', threshold: 2, amount: 700 }] });
    const plan = planMaturity(rules, d('2026-03-01'), input([
      referral('P', 'a', '2026-01-01', '2026-01-10'),
      referral('P', 'b', '2026-01-01', '2026-01-31'),
      referral('P', 'c', '2026-01-01', '2026-01-31'),
      referral('P', 'd', '2026-01-01', '2026-02-01'),
    ]));
    expect(plan.bonuses).toHaveLength(1);
    expect(plan.bonuses[0]).toMatchObject({ key: 'bonus:0:2026-01:P', customerId: 'b', amount: 700, occurredAt: d('2026-01-31') });
    const again = planMaturity(rules, d('2026-03-01'), { ...input([referral('P', 'e', '2026-01-01', '2026-02-02')], [{ ...referral('P', 'd', '2026-01-01', '2026-02-01'), qualified: true }]), awardedKeys: new Set() });
    expect(again.bonuses.map((b) => b.key)).toEqual(['bonus:0:2026-02:P']);
  });
  it('only qualifies referrals due by asOf and clamps bonuses by the cap, counting bonuses of the same run', () => {
    const rules = rulesDocument.parse({ bonuses: [{ kind: 'early_bird', period: 'month', first: 5, scope: 'program', amount: 600 }], cap: { period: 'month', amount: 1000 } });
    const plan = planMaturity(rules, d('2026-01-20'), input([referral('P', 'a', '2026-01-01', '2026-01-10'), referral('P', 'b', '2026-01-01', '2026-01-11'), referral('P', 'c', '2026-01-01', '2026-01-21')]));
    expect(plan.qualified.map((r) => r.customerId)).toEqual(['a', 'b']);
    expect(plan.bonuses.map((b) => [b.amount, b.reason])).toEqual([[600, null], [400, 'cap_reached']]);
  });
  it('a repeated run with the same asOf awards nothing new (idempotent)', () => {
    const rules = rulesMap({ sale: { type: 'flat', amount: 10 }, bonuses: [{ kind: 'early_bird', period: 'month', first: 5, amount: 50 }] });
    const once = replayProgram('prg', 'EUR', rules, [saleEvent('S1', 'C1', 100, '2026-01-01'), { type: 'mature', asOf: d('2026-01-02'), rulesVersion: 1 }]);
    const twice = replayProgram('prg', 'EUR', rules, [saleEvent('S1', 'C1', 100, '2026-01-01'), { type: 'mature', asOf: d('2026-01-02'), rulesVersion: 1 }, { type: 'mature', asOf: d('2026-01-02'), rulesVersion: 1 }]);
    expect([...twice.commissions.keys()]).toEqual([...once.commissions.keys()]);
    expect(twice.entries).toEqual(once.entries);
  });
});

describe('holds, releases, reversals and adjustments', () => {
  const rules = rulesMap({ sale: { type: 'flat', amount: 1000 } });
  it('a held commission does not mature; released, it matures on the next run', () => {
    const base: RewardEvent[] = [saleEvent('S1', 'C1', 100, '2026-01-01'), { type: 'hold', commissionKey: 'sale:S1' }, { type: 'mature', asOf: d('2026-01-05'), rulesVersion: 1 }];
    expect(replayProgram('prg', 'EUR', rules, base).commissions.get('sale:S1')!.status).toBe('held');
    const released = replayProgram('prg', 'EUR', rules, [...base, { type: 'release', commissionKey: 'sale:S1' }, { type: 'mature', asOf: d('2026-01-05'), rulesVersion: 1 }]);
    expect(released.commissions.get('sale:S1')!.status).toBe('payable');
  });
  it('holding a payable commission moves it out of payable; reversing it zeroes it', () => {
    const book = replayProgram('prg', 'EUR', rules, [
      saleEvent('S1', 'C1', 100, '2026-01-01'),
      { type: 'mature', asOf: d('2026-01-05'), rulesVersion: 1 },
      { type: 'hold', commissionKey: 'sale:S1' },
    ]);
    expect(partnerBalance(accountBalances(book.entries), 'prg', 'P')).toEqual({ pending: 1000, payable: 0, paid: 0 });
    const reversed = replayProgram('prg', 'EUR', rules, [
      saleEvent('S1', 'C1', 100, '2026-01-01'),
      { type: 'hold', commissionKey: 'sale:S1' },
      { type: 'reverse', commissionKey: 'sale:S1' },
      { type: 'adjustment', adjustmentId: 'a1', partnerId: 'P', amount: -300, occurredAt: d('2026-01-06') },
    ]);
    expect(reversed.commissions.get('sale:S1')).toMatchObject({ status: 'reversed', reversedAmount: 1000 });
    expect(partnerBalance(accountBalances(reversed.entries), 'prg', 'P')).toEqual({ pending: 0, payable: -300, paid: 0 });
  });
});
