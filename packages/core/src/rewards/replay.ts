import type { RulesDocument } from '@tandem/contracts';
import { accrue, bucketOf, move, payoutPaid, reverse, type JournalEntry } from '../ledger/journal.js';
import { capWindow, evaluateLead, evaluateSale, type Step } from './evaluate.js';
import { offsetSettled } from '../reciprocity-netting.js';
import { disqualifiesReferral, newReferral, planMaturity, refundReduction, type CommissionKind, type CommissionStatus, type Referral } from './lifecycle.js';

/*
 * The whole-stream version of the engine: given the ordered stream of a program's reward events
 * (as the server processed them), compute every commission and journal entry. The server applies
 * the same step functions one event at a time against the database; `tandem rewards replay` and
 * the property tests run this and compare.
 */

export type RewardEvent =
  | { type: 'lead'; leadId: string; partnerId: string; customerId: string; occurredAt: Date; customerCountry: string | null; rulesVersion: number; approved: boolean; partnerTags: string[] }
  | {
      type: 'sale';
      saleId: string;
      partnerId: string;
      customerId: string;
      amount: number;
      currency: string;
      productId: string | null;
      occurredAt: Date;
      customerCountry: string | null;
      rulesVersion: number;
      approved: boolean;
      partnerTags: string[];
    }
  /** `partnerId`: whose sale it was when refunded (absent in events logged before it was added). */
  | { type: 'refund'; refundId: string; saleId: string; amount: number; occurredAt: Date; partnerId?: string }
  /** `withheldFrom`: partners whose enrollment could not earn at the run, so their bonuses were not awarded. */
  | { type: 'mature'; asOf: Date; rulesVersion: number; withheldFrom?: string[] }
  | { type: 'hold' | 'release' | 'reverse'; commissionKey: string }
  /**
   * A manual credit or debit. One made for a sale (a dispute's re-attribution) carries the sale and
   * the part of it the credit was earned on (`saleBase`: what was not refunded then), so that later
   * refunds of that sale reduce it as they would the sale's own commission.
   */
  | { type: 'adjustment'; adjustmentId: string; partnerId: string; amount: number; occurredAt: Date; saleId?: string | null; saleBase?: number | null }
  | { type: 'payout'; payoutId: string; partnerId: string; minAmount: number }
  | { type: 'payout_paid' | 'payout_failed'; payoutId: string }
  /**
   * Part of P's payable commissions settled without cash by netting a reciprocal partnership
   * (docs/decisions/0012-reciprocal-netting.md): each listed commission gives up `offset`, and one
   * with nothing left (`rest` 0) is paid.
   */
  | { type: 'settlement'; settlementId: string; partnerId: string; offset: number; commissions: { key: string; offset: number; rest: number }[] };

export interface Commission {
  key: string;
  kind: CommissionKind;
  partnerId: string;
  customerId: string | null;
  saleId: string | null;
  amount: number;
  /** Reduced by reversals (refunds while unpaid, fraud). Net = amount − reversedAmount. */
  reversedAmount: number;
  /** Reduced by clawbacks after payment (each a negative `clawback` commission). */
  clawedBack: number;
  status: CommissionStatus;
  occurredAt: Date;
  payableAt: Date;
  reason: string | null;
  rulesVersion: number;
  explanation: Step[];
  payoutId: string | null;
  /** Settled without cash by partnership netting (never more than what is payable of it). */
  offset?: number;
}

export interface BookEntry extends JournalEntry {
  partnerId: string;
  kind: string;
  ref: string;
}

export interface ProgramBook {
  programId: string;
  currency: string;
  commissions: Map<string, Commission>;
  referrals: Map<string, Referral>;
  sales: Map<string, { partnerId: string; customerId: string; amount: number; refunded: number }>;
  leads: Set<string>;
  payouts: Map<string, { partnerId: string; keys: string[]; amount: number; status: 'pending' | 'paid' | 'failed' }>;
  /** Credits made for a sale by adjustment (re-attribution), by sale id: what later refunds reduce. */
  /** Keyed by `<sale id>|<partner id>`; a newer credit of the same partner replaces the older. */
  saleCredits: Map<string, { key: string; base: number }>;
  entries: BookEntry[];
}

export const commissionKeys = {
  lead: (partnerId: string, customerId: string) => `lead:${partnerId}:${customerId}`,
  sale: (saleId: string) => `sale:${saleId}`,
  clawback: (refundId: string, commissionKey: string) => `clawback:${refundId}:${commissionKey}`,
  adjustment: (id: string) => `adjustment:${id}`,
};

export const netAmount = (c: Pick<Commission, 'amount' | 'reversedAmount'>) => c.amount - c.reversedAmount;
/** What is still to be paid in cash: the net amount less what partnership netting settled. */
export const unsettledAmount = (c: Pick<Commission, 'amount' | 'reversedAmount' | 'offset'>) => netAmount(c) - (c.offset ?? 0);
/**
 * Money already on its way to the partner — paid, in a payout, or partly settled by netting — is
 * clawed back when reduced, never reversed.
 */
const paidOrCommitted = (c: Commission) => c.status === 'paid' || c.payoutId !== null || (c.offset ?? 0) > 0;

/** P's non-reversed earnings whose occurredAt lies in [from, to). */
export function earningsBetween(commissions: Iterable<Commission>, partnerId: string, from: Date, to: Date): number {
  let sum = 0;
  for (const c of commissions) if (c.partnerId === partnerId && c.occurredAt >= from && c.occurredAt < to) sum += netAmount(c);
  return sum;
}

function rulesFor(rulesByVersion: ReadonlyMap<number, RulesDocument>, version: number): RulesDocument {
  const rules = rulesByVersion.get(version);
  if (!rules) throw new Error(`rules version ${version} is unknown`);
  return rules;
}

/**
 * The credit a re-attribution gave `partnerId` for a sale, when that partner holds one: the newest
 * (each re-attribution reverses the credits others hold for the sale, and a partner's own earlier
 * one is reversed when the sale moved away from it). A sale never re-attributed has none.
 */
export function saleCreditOf(book: ProgramBook, saleId: string, partnerId: string | undefined): { key: string; base: number } | null {
  return partnerId ? (book.saleCredits.get(`${saleId}|${partnerId}`) ?? null) : null;
}

/** Reduces the commission `key` for a refund of `refunded`, in proportion to `base` (what it was earned on), as the server's onRefund does. */
function reduceForRefund(book: ProgramBook, key: string, base: number, refunded: number, event: { refundId: string; occurredAt: Date }): void {
  const c = book.commissions.get(key);
  if (!c || c.status === 'reversed' || refunded <= 0) return;
  const decision = refundReduction({ amount: c.amount, alreadyReduced: c.reversedAmount + c.clawedBack, status: c.status, inPayout: paidOrCommitted(c) }, base, refunded);
  applyReduction(book, c, decision.reduction, decision.mode, event.refundId, event.occurredAt, `refund of ${refunded} of ${base}`);
}

export function emptyBook(programId: string, currency: string): ProgramBook {
  return { programId, currency, commissions: new Map(), referrals: new Map(), sales: new Map(), leads: new Set(), payouts: new Map(), saleCredits: new Map(), entries: [] };
}

function post(book: ProgramBook, partnerId: string, kind: string, ref: string, postings: JournalEntry['postings']): void {
  if (postings.every((p) => p.amount === 0)) return;
  book.entries.push({ partnerId, kind, ref, currency: book.currency, postings });
}

function record(book: ProgramBook, c: Commission): void {
  book.commissions.set(c.key, c);
  if (c.amount !== 0) post(book, c.partnerId, `commission.${c.kind}`, c.key, accrue(book.programId, c.partnerId, bucketOf(c.status as 'pending'), c.amount));
}

function capEarnings(book: ProgramBook, rules: RulesDocument, partnerId: string, t: Date): number {
  const window = capWindow(rules, t);
  return window ? earningsBetween(book.commissions.values(), partnerId, window.from, window.to) : 0;
}

function qualifiedAtsOf(book: ProgramBook, partnerId: string): Date[] {
  return [...book.referrals.values()].filter((r) => r.partnerId === partnerId && r.qualified).map((r) => r.qualifiedAt!);
}

/** Applies one event to the book (mutating it); unknown references and repeats change nothing. */
export function applyRewardEvent(book: ProgramBook, rulesByVersion: ReadonlyMap<number, RulesDocument>, event: RewardEvent): void {
  const programId = book.programId;
  switch (event.type) {
    case 'lead': {
      const key = commissionKeys.lead(event.partnerId, event.customerId);
      if (book.commissions.has(key)) return;
      const rules = rulesFor(rulesByVersion, event.rulesVersion);
      const evaluation = evaluateLead(
        rules,
        { enrollmentApproved: event.approved, partnerTags: event.partnerTags, qualifiedAts: qualifiedAtsOf(book, event.partnerId), capPeriodEarnings: capEarnings(book, rules, event.partnerId, event.occurredAt) },
        { occurredAt: event.occurredAt, customerCountry: event.customerCountry },
      );
      if (!evaluation.earns) return;
      record(book, {
        key, kind: 'lead', partnerId: event.partnerId, customerId: event.customerId, saleId: null, amount: evaluation.amount, reversedAmount: 0, clawedBack: 0,
        status: 'pending', occurredAt: event.occurredAt, payableAt: evaluation.payableAt, reason: evaluation.reason, rulesVersion: event.rulesVersion, explanation: evaluation.explanation, payoutId: null,
      });
      return;
    }
    case 'sale': {
      if (book.sales.has(event.saleId)) return;
      const rules = rulesFor(rulesByVersion, event.rulesVersion);
      book.sales.set(event.saleId, { partnerId: event.partnerId, customerId: event.customerId, amount: event.amount, refunded: 0 });
      const referralKey = `${event.partnerId}|${event.customerId}`;
      const referral = book.referrals.get(referralKey);
      if (!referral) book.referrals.set(referralKey, newReferral(rules, { partnerId: event.partnerId, customerId: event.customerId, saleId: event.saleId, occurredAt: event.occurredAt, amount: event.amount }));
      const evaluation = evaluateSale(
        rules,
        { enrollmentApproved: event.approved, partnerTags: event.partnerTags, qualifiedAts: qualifiedAtsOf(book, event.partnerId), capPeriodEarnings: capEarnings(book, rules, event.partnerId, event.occurredAt) },
        { amount: event.amount, currency: event.currency, productId: event.productId, occurredAt: event.occurredAt, customerCountry: event.customerCountry, firstSaleAt: referral?.firstSaleAt ?? null },
      );
      if (!evaluation.earns) return;
      record(book, {
        key: commissionKeys.sale(event.saleId), kind: 'sale', partnerId: event.partnerId, customerId: event.customerId, saleId: event.saleId, amount: evaluation.amount, reversedAmount: 0, clawedBack: 0,
        status: 'pending', occurredAt: event.occurredAt, payableAt: evaluation.payableAt, reason: evaluation.reason, rulesVersion: event.rulesVersion, explanation: evaluation.explanation, payoutId: null,
      });
      return;
    }
    case 'refund': {
      // Whatever happens below, the sale's refunded total counts this refund (the server's does).
      const sale = book.sales.get(event.saleId);
      const refundable = sale ? Math.max(0, Math.min(event.amount, sale.amount - sale.refunded)) : 0;
      if (sale) sale.refunded += refundable;
      // A sale re-attributed by a dispute: the partner it belongs to now holds a credit for it.
      const credit = saleCreditOf(book, event.saleId, event.partnerId);
      if (credit) return reduceForRefund(book, credit.key, credit.base, event.amount, event);
      if (!sale) return;
      // The referral of the partner whose sale it is when refunded (a dispute may have moved it;
      // events logged before they named the partner mean the sale's first partner).
      const referral = book.referrals.get(`${event.partnerId ?? sale.partnerId}|${sale.customerId}`);
      if (referral && referral.firstSaleId === event.saleId && disqualifiesReferral(referral, sale.refunded, event.occurredAt)) referral.disqualified = true;
      return reduceForRefund(book, commissionKeys.sale(event.saleId), sale.amount, refundable, event);
    }
    case 'mature': {
      const rules = rulesFor(rulesByVersion, event.rulesVersion);
      for (const c of book.commissions.values()) {
        if (c.status === 'pending' && c.payableAt <= event.asOf) {
          c.status = 'payable';
          post(book, c.partnerId, 'commission.payable', c.key, move(programId, c.partnerId, 'pending', 'payable', netAmount(c)));
        }
      }
      const referrals = [...book.referrals.values()];
      const plan = planMaturity(rules, event.asOf, {
        candidates: referrals.filter((r) => !r.qualified),
        qualifiedBefore: referrals.filter((r) => r.qualified),
        capEarnings: (partnerId, t) => capEarnings(book, rules, partnerId, t),
        awardedKeys: new Set([...book.commissions.keys()].filter((k) => k.startsWith('bonus:'))),
      });
      for (const r of plan.qualified) r.qualified = true;
      const withheld = new Set(event.withheldFrom ?? []);
      for (const b of plan.bonuses) {
        if (withheld.has(b.partnerId)) continue;
        record(book, {
          key: b.key, kind: 'bonus', partnerId: b.partnerId, customerId: b.customerId, saleId: null, amount: b.amount, reversedAmount: 0, clawedBack: 0,
          status: 'payable', occurredAt: b.occurredAt, payableAt: b.occurredAt, reason: b.reason, rulesVersion: event.rulesVersion, explanation: b.explanation, payoutId: null,
        });
      }
      return;
    }
    case 'hold': {
      const c = book.commissions.get(event.commissionKey);
      if (!c || (c.status !== 'pending' && c.status !== 'payable') || c.payoutId || (c.offset ?? 0) > 0) return;
      if (c.status === 'payable') post(book, c.partnerId, 'commission.held', c.key, move(programId, c.partnerId, 'payable', 'pending', netAmount(c)));
      c.status = 'held';
      return;
    }
    case 'release': {
      const c = book.commissions.get(event.commissionKey);
      if (!c || c.status !== 'held') return;
      // Back to pending: the next maturity run makes it payable when it is due.
      c.status = 'pending';
      return;
    }
    case 'reverse': {
      const c = book.commissions.get(event.commissionKey);
      if (!c || c.status === 'reversed') return;
      const remaining = c.amount - c.reversedAmount - c.clawedBack;
      applyReduction(book, c, remaining, paidOrCommitted(c) ? 'clawback' : 'reversal', `reverse:${c.key}`, c.occurredAt, 'reversed');
      return;
    }
    case 'adjustment': {
      const key = commissionKeys.adjustment(event.adjustmentId);
      if (book.commissions.has(key)) return;
      if (event.saleId && event.saleBase && event.amount > 0) {
        book.saleCredits.set(`${event.saleId}|${event.partnerId}`, { key, base: event.saleBase });
      }
      record(book, {
        key, kind: 'adjustment', partnerId: event.partnerId, customerId: null, saleId: null, amount: event.amount, reversedAmount: 0, clawedBack: 0,
        status: 'payable', occurredAt: event.occurredAt, payableAt: event.occurredAt, reason: 'adjustment', rulesVersion: 0, explanation: [], payoutId: null,
      });
      return;
    }
    case 'payout': {
      if (book.payouts.has(event.payoutId)) return;
      const included = [...book.commissions.values()].filter((c) => c.partnerId === event.partnerId && c.status === 'payable' && c.payoutId === null);
      const amount = included.reduce((s, c) => s + unsettledAmount(c), 0);
      if (included.length === 0 || amount <= 0 || amount < event.minAmount) return;
      for (const c of included) c.payoutId = event.payoutId;
      book.payouts.set(event.payoutId, { partnerId: event.partnerId, keys: included.map((c) => c.key), amount, status: 'pending' });
      return;
    }
    case 'settlement':
      applySettlement(book, event);
      return;
    case 'payout_paid':
    case 'payout_failed': {
      const payout = book.payouts.get(event.payoutId);
      if (!payout || payout.status !== 'pending') return;
      payout.status = event.type === 'payout_paid' ? 'paid' : 'failed';
      for (const key of payout.keys) {
        const c = book.commissions.get(key)!;
        if (event.type === 'payout_paid') c.status = 'paid';
        else c.payoutId = null;
      }
      if (event.type === 'payout_paid') post(book, payout.partnerId, 'payout.paid', event.payoutId, payoutPaid(programId, payout.partnerId, payout.amount));
      return;
    }
  }
}

function applySettlement(book: ProgramBook, event: Extract<RewardEvent, { type: 'settlement' }>): void {
  for (const item of event.commissions) {
    const c = book.commissions.get(item.key);
    if (!c) continue;
    c.offset = (c.offset ?? 0) + item.offset;
    if (item.rest === 0) c.status = 'paid';
  }
  post(book, event.partnerId, 'partnership.settled', event.settlementId, offsetSettled(book.programId, event.partnerId, event.offset));
}

function applyReduction(book: ProgramBook, c: Commission, reduction: number, mode: 'reversal' | 'clawback', ref: string, at: Date, why: string): void {
  if (reduction <= 0) return;
  if (mode === 'reversal') {
    post(book, c.partnerId, 'commission.reversed', c.key, reverse(book.programId, c.partnerId, bucketOf(c.status as 'pending'), reduction));
    c.reversedAmount += reduction;
    if (c.reversedAmount >= c.amount) c.status = 'reversed';
    return;
  }
  c.clawedBack += reduction;
  record(book, {
    key: commissionKeys.clawback(ref, c.key), kind: 'clawback', partnerId: c.partnerId, customerId: c.customerId, saleId: c.saleId, amount: -reduction, reversedAmount: 0, clawedBack: 0,
    status: 'payable', occurredAt: at, payableAt: at, reason: why, rulesVersion: c.rulesVersion, explanation: [{ step: 'amount', text: `clawback of ${reduction} from ${c.key} (${why})`, amount: -reduction }], payoutId: null,
  });
}

/** Replays a program's whole event stream into a fresh book. */
export function replayProgram(programId: string, currency: string, rulesByVersion: ReadonlyMap<number, RulesDocument>, events: Iterable<RewardEvent>): ProgramBook {
  const book = emptyBook(programId, currency);
  for (const event of events) applyRewardEvent(book, rulesByVersion, event);
  return book;
}
