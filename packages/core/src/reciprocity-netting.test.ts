import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBalanced } from './ledger/journal.js';
import { allocateOffset, offsetSettled, offsetsByPartner, planNetting, sideTotal, type PayableItem } from './reciprocity-netting.js';

const items = (...owed: number[]): PayableItem[] => owed.map((o, i) => ({ id: `com_${i}`, partnerId: 'ptn_1', owed: o }));

describe('planNetting', () => {
  it('offsets the smaller side and leaves one payout from the brand owing more', () => {
    expect(planNetting(12_000, 5_000)).toEqual({ aOwesB: 12_000, bOwesA: 5_000, offset: 5_000, net: { payer: 'a', amount: 7_000 } });
    expect(planNetting(5_000, 12_000).net).toEqual({ payer: 'b', amount: 7_000 });
  });
  it('settles equal sides entirely by offset, with no payout', () => {
    expect(planNetting(4_200, 4_200)).toEqual({ aOwesB: 4_200, bOwesA: 4_200, offset: 4_200, net: null });
  });
  it('pays the other side in full when one side owes nothing (or less than nothing)', () => {
    expect(planNetting(3_000, 0)).toEqual({ aOwesB: 3_000, bOwesA: 0, offset: 0, net: { payer: 'a', amount: 3_000 } });
    expect(planNetting(-500, 3_000)).toEqual({ aOwesB: 0, bOwesA: 3_000, offset: 0, net: { payer: 'b', amount: 3_000 } });
    expect(planNetting(0, 0)).toEqual({ aOwesB: 0, bOwesA: 0, offset: 0, net: null });
  });
});

describe('allocateOffset', () => {
  it('consumes commissions oldest first and splits the one the offset ends in', () => {
    expect(allocateOffset(items(4_000, 8_000), 5_000).map((a) => [a.offset, a.rest])).toEqual([[4_000, 0], [1_000, 7_000]]);
  });
  it('consumes clawbacks whole before positive commissions', () => {
    expect(allocateOffset(items(3_000, -1_000, 2_000), 3_000).map((a) => [a.offset, a.rest])).toEqual([[3_000, 0], [-1_000, 0], [1_000, 1_000]]);
  });
  it('allocates nothing without an offset, and refuses an offset above what the side owes', () => {
    expect(allocateOffset(items(100, -50), 0).map((a) => a.offset)).toEqual([0, 0]);
    expect(() => allocateOffset(items(100), 101)).toThrow(RangeError);
    expect(() => allocateOffset(items(100), -1)).toThrow(RangeError);
  });
  it("takes a row's clawback from that row's own commissions, never from another row's share", () => {
    // P2's older commission and P1's commission with a clawback: P1 owes 20 in all, P2 500.
    const side: PayableItem[] = [
      { id: 'c1', partnerId: 'p2', owed: 500 },
      { id: 'c2', partnerId: 'p1', owed: 100 },
      { id: 'c3', partnerId: 'p1', owed: -80 },
    ];
    const allocation = allocateOffset(side, 90);
    expect(allocation.map((a) => [a.id, a.offset, a.rest])).toEqual([['c1', 90, 410], ['c2', 80, 20], ['c3', -80, 0]]);
    // P1's clawback is settled against its own commission (a journal entry of nothing, and the
    // reward event that records both); the offset itself is P2's.
    expect(offsetsByPartner(allocation)).toEqual(new Map([['p2', 90], ['p1', 0]]));
  });
  it('lets a row whose clawbacks exceed its commissions fall on the others, so the side still adds up', () => {
    const allocation = allocateOffset([{ id: 'c1', partnerId: 'p1', owed: 300 }, { id: 'c2', partnerId: 'p2', owed: 50 }, { id: 'c3', partnerId: 'p2', owed: -100 }], 100);
    expect(allocation.map((a) => [a.offset, a.rest])).toEqual([[150, 150], [50, 0], [-100, 0]]);
  });
  it('groups what is settled per partner row', () => {
    const allocation = allocateOffset([{ id: 'c1', partnerId: 'p1', owed: 300 }, { id: 'c2', partnerId: 'p2', owed: 300 }], 400);
    expect(offsetsByPartner(allocation)).toEqual(new Map([['p1', 300], ['p2', 100]]));
    // A row whose only commission owes nothing any more is settled whole, for 0.
    const withZero = allocateOffset([{ id: 'c1', partnerId: 'p1', owed: 300 }, { id: 'c2', partnerId: 'p3', owed: 0 }], 100);
    expect(offsetsByPartner(withZero)).toEqual(new Map([['p1', 100], ['p3', 0]]));
  });
});

describe('offsetSettled', () => {
  it('moves payable to paid against the partnership clearing account, balanced', () => {
    const postings = offsetSettled('prg_1', 'ptn_1', 5_000);
    expect(postings).toEqual([
      { account: 'partner:prg_1:ptn_1:payable', amount: 5_000 },
      { account: 'partner:prg_1:ptn_1:paid', amount: -5_000 },
      { account: 'program:prg_1:payouts', amount: 5_000 },
      { account: 'program:prg_1:partnership_clearing', amount: -5_000 },
    ]);
    expect(isBalanced({ currency: 'USD', postings })).toBe(true);
  });
});

// Up to three partner rows per side, so that clawbacks and commissions of different rows mix.
const side = fc
  .array(fc.tuple(fc.integer({ min: -5_000, max: 20_000 }), fc.integer({ min: 1, max: 3 })), { maxLength: 8 })
  .map((xs) => xs.map(([owed, row], i): PayableItem => ({ id: `com_${i}`, partnerId: `ptn_${row}`, owed })));

it('property: the offset never exceeds either side, allocations add up, rests never go negative, postings balance', () => {
  fc.assert(
    fc.property(side, side, (a, b) => {
      const plan = planNetting(sideTotal(a), sideTotal(b));
      expect(plan.offset).toBeLessThanOrEqual(plan.aOwesB);
      expect(plan.offset).toBeLessThanOrEqual(plan.bOwesA);
      expect(plan.offset + (plan.net?.payer === 'a' ? plan.net.amount : 0)).toBe(plan.aOwesB);
      expect(plan.offset + (plan.net?.payer === 'b' ? plan.net.amount : 0)).toBe(plan.bOwesA);
      for (const [items, owes] of [[a, plan.aOwesB], [b, plan.bOwesA]] as const) {
        const allocation = allocateOffset(items, plan.offset);
        expect(allocation.reduce((s, x) => s + x.offset, 0)).toBe(plan.offset);
        for (const [i, x] of allocation.entries()) {
          expect(x.offset + x.rest).toBe(items[i]!.owed);
          expect(x.rest).toBeGreaterThanOrEqual(plan.offset === 0 ? Math.min(0, items[i]!.owed) : 0);
        }
        // What stays owed after the offset is what the net payout (if any) carries.
        if (plan.offset > 0) expect(allocation.reduce((s, x) => s + x.rest, 0)).toBe(owes - plan.offset);
        // A row owing something overall never gives up less than nothing: its clawbacks are its own.
        const rows = new Map<string, { owed: number; offset: number }>();
        for (const [i, x] of allocation.entries()) {
          const row = rows.get(x.partnerId) ?? { owed: 0, offset: 0 };
          row.owed += items[i]!.owed;
          row.offset += x.offset;
          rows.set(x.partnerId, row);
        }
        if (plan.offset > 0) for (const row of rows.values()) if (row.owed >= 0) expect(row.offset).toBeGreaterThanOrEqual(0);
        const postings = [...offsetsByPartner(allocation)].flatMap(([partnerId, amount]) => offsetSettled('prg', partnerId, amount));
        expect(postings.reduce((s, p) => s + p.amount, 0)).toBe(0);
      }
    }),
  );
});
