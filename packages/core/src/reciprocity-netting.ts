import { payoutPaid, type Posting } from './ledger/journal.js';

/*
 * Settling a reciprocal partnership by netting. Between two brands A and B, A's program owes B (the
 * payable commissions of B's partner row in A's program) and B's program owes A. The smaller of
 * the two is offset against the larger: both sides give up the same amount without cash, and only
 * the difference is paid, by the brand that owes more (one payout per partner row it pays). Currencies never mix: the
 * caller nets one currency at a time.
 */

/** One payable commission of a side, with what is still owed on it (negative for a clawback). */
export interface PayableItem {
  id: string;
  partnerId: string;
  /** What is still owed on it, in minor units: net of reversals and of earlier offsets. */
  owed: number;
}

/** How much of one commission an offset consumed; `rest` is what stays owed on it. */
export interface ItemAllocation {
  id: string;
  partnerId: string;
  offset: number;
  rest: number;
}

export interface NettingPlan {
  /** What A owes B and B owes A, as counted for netting (a side owing nothing or less counts 0). */
  aOwesB: number;
  bOwesA: number;
  /** Given up by both sides without cash: never more than either side. */
  offset: number;
  /** The payout left after the offset, from the brand owing more; null when the sides are even. */
  net: { payer: 'a' | 'b'; amount: number } | null;
}

/** What a side owes for netting: the sum of its items, or 0 when clawbacks leave it owing nothing. */
export const sideTotal = (items: readonly Pick<PayableItem, 'owed'>[]): number => Math.max(0, items.reduce((sum, i) => sum + i.owed, 0));

export function planNetting(aOwesB: number, bOwesA: number): NettingPlan {
  const a = Math.max(0, aOwesB);
  const b = Math.max(0, bOwesA);
  const offset = Math.min(a, b);
  if (a === b) return { aOwesB: a, bOwesA: b, offset, net: null };
  return { aOwesB: a, bOwesA: b, offset, net: a > b ? { payer: 'a', amount: a - offset } : { payer: 'b', amount: b - offset } };
}

/**
 * Spreads an offset over a side's payable commissions, oldest first (the caller passes them in
 * that order). Clawbacks and zero amounts are consumed first and whole: they only lower what the
 * side owes, so leaving them behind would strand a negative remainder. Each clawback is taken back
 * from its own partner row's commissions first: rows of a side may be different payees (a brand
 * enrolled twice, by two owners), and one row's clawback must not come out of another row's share.
 * Only what a row's own commissions cannot cover (a row owing nothing overall) falls on the rest.
 * Positive commissions then give up the offset, oldest first; the last one may be consumed in
 * part (see decision 0012). With no offset nothing is allocated.
 */
export function allocateOffset(items: readonly PayableItem[], offset: number): ItemAllocation[] {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
  if (offset === 0) return items.map((i) => ({ id: i.id, partnerId: i.partnerId, offset: 0, rest: i.owed }));
  const total = items.reduce((sum, i) => sum + i.owed, 0);
  if (offset > total) throw new RangeError(`offset ${offset} exceeds what the side owes (${total})`);
  const taken = items.map((i) => (i.owed <= 0 ? i.owed : 0));
  const rest = items.map((i) => Math.max(0, i.owed));
  // Each row's clawback credit, taken from the same row's commissions, oldest first.
  const credit = new Map<string, number>();
  for (const i of items) if (i.owed < 0) credit.set(i.partnerId, (credit.get(i.partnerId) ?? 0) - i.owed);
  items.forEach((item, n) => {
    const left = credit.get(item.partnerId) ?? 0;
    if (item.owed <= 0 || left === 0) return;
    const share = Math.min(rest[n]!, left);
    taken[n]! += share;
    rest[n]! -= share;
    credit.set(item.partnerId, left - share);
  });
  // Then the offset itself, plus any credit a row could not cover, from what is left, oldest first.
  let need = offset + [...credit.values()].reduce((sum, c) => sum + c, 0);
  items.forEach((item, n) => {
    if (item.owed <= 0 || need === 0) return;
    const share = Math.min(rest[n]!, need);
    taken[n]! += share;
    rest[n]! -= share;
    need -= share;
  });
  return items.map((i, n) => ({ id: i.id, partnerId: i.partnerId, offset: taken[n]!, rest: rest[n]! }));
}

/** Per partner row with a commission offset or settled whole, the amount an allocation settles (one journal entry and reward event each). */
export function offsetsByPartner(allocations: readonly ItemAllocation[]): Map<string, number> {
  const byPartner = new Map<string, number>();
  // A row whose only settled commissions owed nothing is listed too (with 0): they become paid, and
  // its reward event is what tells replay so.
  for (const a of allocations) if (a.offset !== 0 || a.rest === 0) byPartner.set(a.partnerId, (byPartner.get(a.partnerId) ?? 0) + a.offset);
  return byPartner;
}

/**
 * The program's claims on partner brands that were given up in settlements: the stand-in for cash
 * when a liability is settled by offset rather than paid.
 */
export const partnershipClearingAccount = (programId: string) => `program:${programId}:partnership_clearing`;

/**
 * `amount` of the partner's payable settled by offset: like a paid payout (payable → paid, the
 * value delivered recorded on the payouts account), except that what left is a claim on the other
 * brand, credited to the partnership clearing account, instead of cash.
 */
export function offsetSettled(programId: string, partnerId: string, amount: number): Posting[] {
  return payoutPaid(programId, partnerId, amount, partnershipClearingAccount(programId));
}
