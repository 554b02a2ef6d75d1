/*
 * Double-entry journal: every entry's postings sum to zero. Amounts are signed minor units, debit
 * positive, all in the program's currency. The partner's accounts are liabilities of the program,
 * so they carry credit (negative) sums; the partner-facing balance is the negated sum of postings.
 *
 * Accounts per (program, partner): `pending` (earned, not yet due, or held), `payable` (due; may go
 * negative after a clawback), `paid` (settled, the lifetime total). Per program: `expense` (what the
 * program has earned its partners, net of reversals), `cash` (money that left in payouts) and the
 * `payouts` clearing account that is cash's other side.
 */

export type PartnerBucket = 'pending' | 'payable' | 'paid';
export interface Posting {
  account: string;
  amount: number;
}
export interface JournalEntry {
  currency: string;
  postings: Posting[];
}

export const partnerAccount = (programId: string, partnerId: string, bucket: PartnerBucket) => `partner:${programId}:${partnerId}:${bucket}`;
export const expenseAccount = (programId: string) => `program:${programId}:expense`;
export const cashAccount = (programId: string) => `program:${programId}:cash`;
/** Money sent to partners and not yet taken out of cash: the other side of `cash` (see `payoutPaid`). */
export const payoutsClearingAccount = (programId: string) => `program:${programId}:payouts`;

/** The bucket a commission's money sits in for each status (held money stays out of payable). */
export function bucketOf(status: 'pending' | 'held' | 'payable' | 'paid'): PartnerBucket {
  if (status === 'paid') return 'paid';
  if (status === 'payable') return 'payable';
  return 'pending';
}

/** Earning `amount` (bonus, adjustment or clawback when negative) into `bucket`. */
export function accrue(programId: string, partnerId: string, bucket: PartnerBucket, amount: number): Posting[] {
  return [
    { account: expenseAccount(programId), amount },
    { account: partnerAccount(programId, partnerId, bucket), amount: -amount },
  ];
}

/** Moving `amount` of the partner's liability between buckets (maturity, hold, payout). */
export function move(programId: string, partnerId: string, from: PartnerBucket, to: PartnerBucket, amount: number): Posting[] {
  return [
    { account: partnerAccount(programId, partnerId, from), amount },
    { account: partnerAccount(programId, partnerId, to), amount: -amount },
  ];
}

/** Reversing `amount` of earnings still in `bucket`. */
export function reverse(programId: string, partnerId: string, bucket: PartnerBucket, amount: number): Posting[] {
  return accrue(programId, partnerId, bucket, -amount);
}

/**
 * A payout of `amount` marked paid: the liability moves payable → paid, and the cash leaving the
 * program is recorded against the payouts clearing account, so `cash` shows money out and the
 * partner's `paid` bucket keeps the lifetime total the statement shows.
 */
/** Paid out of `source`: the program's cash for a payout, the partnership's clearing account for a netted offset. */
export function payoutPaid(programId: string, partnerId: string, amount: number, source: string = cashAccount(programId)): Posting[] {
  return [...move(programId, partnerId, 'payable', 'paid', amount), { account: payoutsClearingAccount(programId), amount }, { account: source, amount: -amount }];
}

export function isBalanced(entry: JournalEntry): boolean {
  return entry.postings.reduce((sum, p) => sum + p.amount, 0) === 0;
}

/** Sum of postings per account. */
export function accountBalances(entries: Iterable<JournalEntry>): Map<string, number> {
  const balances = new Map<string, number>();
  for (const e of entries) for (const p of e.postings) balances.set(p.account, (balances.get(p.account) ?? 0) + p.amount);
  return balances;
}

/** The partner-facing balance (liabilities shown positive), derived from postings only. */
export function partnerBalance(balances: Map<string, number>, programId: string, partnerId: string): Record<PartnerBucket, number> {
  const of = (b: PartnerBucket) => -(balances.get(partnerAccount(programId, partnerId, b)) ?? 0) || 0;
  return { pending: of('pending'), payable: of('payable'), paid: of('paid') };
}
