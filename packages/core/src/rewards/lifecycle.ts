import type { RulesDocument } from '@tandem/contracts';
import { applyCap, holdDaysOf, type Step } from './evaluate.js';
import { proportionOf } from './money.js';
import { addDays, periodKey } from './periods.js';

/*
 * Commission lifecycle steps after the first evaluation: qualification of referrals, refunds
 * (reversal or clawback) and the maturity process with its bonuses. Pure; callers supply state.
 */

export type CommissionKind = 'lead' | 'sale' | 'bonus' | 'clawback' | 'adjustment';
export type CommissionStatus = 'pending' | 'held' | 'payable' | 'paid' | 'reversed';

/** A referral: customer C attributed to partner P, from C's first attributed sale with P. */
export interface Referral {
  partnerId: string;
  customerId: string;
  firstSaleId: string;
  firstSaleAt: Date;
  firstSaleAmount: number;
  /** `firstSaleAt + holdDays`, or null when the first sale is below `minSaleAmount` (never qualifies). */
  qualifiedAt: Date | null;
  disqualified: boolean;
  qualified: boolean;
}

export function newReferral(rules: RulesDocument, sale: { partnerId: string; customerId: string; saleId: string; occurredAt: Date; amount: number }): Referral {
  const minSale = rules.qualification?.minSaleAmount ?? 0;
  return {
    partnerId: sale.partnerId,
    customerId: sale.customerId,
    firstSaleId: sale.saleId,
    firstSaleAt: sale.occurredAt,
    firstSaleAmount: sale.amount,
    qualifiedAt: sale.amount >= minSale ? addDays(sale.occurredAt, holdDaysOf(rules)) : null,
    disqualified: false,
    qualified: false,
  };
}

/** A full refund of the first sale before `qualifiedAt` means the referral never qualifies. */
export function disqualifiesReferral(referral: Referral, refundedTotal: number, refundAt: Date): boolean {
  return !referral.qualified && referral.qualifiedAt !== null && refundedTotal >= referral.firstSaleAmount && refundAt < referral.qualifiedAt;
}

export interface RefundDecision {
  /** How much the commission is reduced by this refund (≥ 0). */
  reduction: number;
  /** `reversal` while unpaid; `clawback` (a negative commission) once paid or in a payout. */
  mode: 'reversal' | 'clawback';
}

/**
 * round(commission × refunded / S.amount), clamped so the sum of reductions never exceeds the
 * commission. `alreadyReduced` = everything reversed or clawed back from it before.
 */
export function refundReduction(
  commission: { amount: number; alreadyReduced: number; status: CommissionStatus; inPayout: boolean },
  saleAmount: number,
  refunded: number,
): RefundDecision {
  const remaining = Math.max(0, commission.amount - commission.alreadyReduced);
  const reduction = Math.min(remaining, proportionOf(commission.amount, refunded, saleAmount));
  return { reduction, mode: commission.status === 'paid' || commission.inPayout ? 'clawback' : 'reversal' };
}

export interface BonusAward {
  /** Idempotency key: one award per (bonus, period, partner) for milestones, per referral for early birds. */
  key: string;
  bonusIndex: number;
  partnerId: string;
  customerId: string;
  amount: number;
  reason: string | null;
  occurredAt: Date;
  explanation: Step[];
}

export interface MaturityInput {
  /** Unqualified, not disqualified referrals with a `qualifiedAt` (any order). */
  candidates: readonly Referral[];
  /** Referrals already qualified (by earlier runs) — to count per period. */
  qualifiedBefore: readonly Pick<Referral, 'partnerId' | 'qualifiedAt'>[];
  /** P's non-reversed earnings in the cap period containing `t`, before this run's bonuses. */
  capEarnings(partnerId: string, t: Date): number;
  /** Bonus keys already awarded (a run repeated with the same asOf awards nothing new). */
  awardedKeys: ReadonlySet<string>;
}

export interface MaturityPlan {
  /** Referrals that qualify in this run, in bonus order. */
  qualified: Referral[];
  bonuses: BonusAward[];
}

/** Bonus order: `qualifiedAt`, then the first sale's `occurredAt`, then customer id. */
export function compareQualification(a: Referral, b: Referral): number {
  return (
    a.qualifiedAt!.getTime() - b.qualifiedAt!.getTime() ||
    a.firstSaleAt.getTime() - b.firstSaleAt.getTime() ||
    (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0)
  );
}

/**
 * Qualifies every candidate with `qualifiedAt ≤ asOf` and awards bonuses (rewards.md "Bonuses"):
 * a milestone when P's qualified count in the period becomes equal to `threshold`; an early bird
 * for each of the first `first` referrals qualifying in the period (program-wide or per partner).
 * Bonuses are clamped by the cap like every earning and count towards it.
 */
export function planMaturity(rules: RulesDocument, asOf: Date, input: MaturityInput): MaturityPlan {
  const due = input.candidates.filter((r) => !r.qualified && !r.disqualified && r.qualifiedAt !== null && r.qualifiedAt <= asOf).sort(compareQualification);
  const bonuses = rules.bonuses ?? [];
  const counts = new Map<string, number>();
  const countKey = (index: number, period: string, partnerId: string | null) => `${index}|${period}|${partnerId ?? '*'}`;
  for (const [index, bonus] of bonuses.entries()) {
    for (const r of input.qualifiedBefore) {
      if (!r.qualifiedAt) continue;
      const pk = periodKey(bonus.period, r.qualifiedAt);
      for (const k of [countKey(index, pk, r.partnerId), countKey(index, pk, null)]) counts.set(k, (counts.get(k) ?? 0) + 1);
    }
  }
  const addedEarnings = new Map<string, number>();
  const awards: BonusAward[] = [];
  for (const referral of due) {
    const qa = referral.qualifiedAt!;
    for (const [index, bonus] of bonuses.entries()) {
      const pk = periodKey(bonus.period, qa);
      const partnerCount = (counts.get(countKey(index, pk, referral.partnerId)) ?? 0) + 1;
      const programCount = (counts.get(countKey(index, pk, null)) ?? 0) + 1;
      counts.set(countKey(index, pk, referral.partnerId), partnerCount);
      counts.set(countKey(index, pk, null), programCount);
      let key: string | null = null;
      let text = '';
      if (bonus.kind === 'milestone' && partnerCount === bonus.threshold) {
        key = `bonus:${index}:${pk}:${referral.partnerId}`;
        text = `milestone: qualified referral #${partnerCount} in ${pk} reaches threshold ${bonus.threshold}`;
      } else if (bonus.kind === 'early_bird') {
        const rank = bonus.scope === 'partner' ? partnerCount : programCount;
        if (rank <= bonus.first) {
          key = `bonus:${index}:${pk}:${referral.partnerId}:${referral.customerId}`;
          text = `early bird: referral #${rank} to qualify in ${pk} (${bonus.scope === 'partner' ? "the partner's" : 'program-wide'}) of the first ${bonus.first}`;
        }
      }
      if (!key || input.awardedKeys.has(key)) continue;
      const earnedKey = `${referral.partnerId}|${rules.cap ? periodKey(rules.cap.period, qa) : ''}`;
      const earned = input.capEarnings(referral.partnerId, qa) + (addedEarnings.get(earnedKey) ?? 0);
      const capped = applyCap(rules, earned, bonus.amount);
      addedEarnings.set(earnedKey, (addedEarnings.get(earnedKey) ?? 0) + capped.amount);
      const explanation: Step[] = [{ step: 'base', text: `${text}: ${bonus.amount}`, amount: bonus.amount }];
      if (capped.step) explanation.push(capped.step);
      explanation.push({ step: 'status', text: 'bonuses are payable at once', amount: capped.amount });
      awards.push({ key, bonusIndex: index, partnerId: referral.partnerId, customerId: referral.customerId, amount: capped.amount, reason: capped.reason, occurredAt: qa, explanation });
    }
  }
  return { qualified: due, bonuses: awards };
}
