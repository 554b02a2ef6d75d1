import type { Condition, Modifier, Period, RulesDocument } from '@tandem/contracts';
import { multiplyAmount, percentOf } from './money.js';
import { addCalendarMonths, addDays, periodEnd, periodStart } from './periods.js';

/*
 * The rule engine of rewards.md as pure functions: (rules version, the partner's state as of the
 * event, the event) → a commission amount and the explanation of every step with its numbers.
 * Callers (the server incrementally, the replay over a whole stream) load the state; nothing here
 * reads a clock or a database.
 */

export type StepName = 'eligibility' | 'base' | 'tier' | 'modifier' | 'amount' | 'boost' | 'cap' | 'status';
export interface Step {
  step: StepName;
  /** Human-readable, with the numbers used. */
  text: string;
  /** The running commission amount after this step, when the step produces one. */
  amount?: number;
}

/** What the engine needs to know about the partner, as of the event. */
export interface PartnerContext {
  enrollmentApproved: boolean;
  partnerTags: readonly string[];
  /** `qualifiedAt` of each of P's referrals that had qualified when the event is processed. */
  qualifiedAts: readonly Date[];
  /**
   * P's non-reversed earnings in this program (all kinds, bonuses included) whose `occurredAt` lies
   * in the cap period containing the event's `occurredAt` (see `capWindow`). 0 without a cap.
   */
  capPeriodEarnings: number;
}

export interface SaleFacts {
  amount: number;
  currency: string;
  productId: string | null;
  occurredAt: Date;
  customerCountry: string | null;
  /**
   * When the customer's first attributed sale with P was made, or null when this sale is the first
   * (no referral of the customer with P exists before it).
   */
  firstSaleAt: Date | null;
}

export interface LeadFacts {
  occurredAt: Date;
  customerCountry: string | null;
}

export interface Evaluation {
  /** False when no commission is recorded at all (not eligible); a cap clamp to 0 still earns. */
  earns: boolean;
  amount: number;
  /** `cap_reached` when the cap clamped the amount; the ineligibility reason when `earns` is false. */
  reason: string | null;
  explanation: Step[];
  payableAt: Date;
}

type RewardSpec = { type: 'flat' | 'percentage'; amount: number };

const describe = (r: RewardSpec) => (r.type === 'flat' ? `flat ${r.amount}` : `${r.amount} %`);

export function holdDaysOf(rules: RulesDocument): number {
  return rules.qualification?.holdDays ?? 0;
}

/** q(P, t): P's qualified referrals whose `qualifiedAt` is in the period containing t and ≤ t. */
export function qualifiedCount(qualifiedAts: readonly Date[], period: Period, t: Date): number {
  const start = periodStart(period, t);
  return qualifiedAts.filter((q) => q >= start && q <= t).length;
}

/** The cap period containing `t` as [from, to), or null when the rules have no cap. */
export function capWindow(rules: RulesDocument, t: Date): { from: Date; to: Date } | null {
  if (!rules.cap) return null;
  return { from: periodStart(rules.cap.period, t), to: periodEnd(rules.cap.period, t) };
}

interface ConditionSubject {
  'sale.amount'?: number;
  'sale.productId'?: string | null;
  'sale.currency'?: string;
  'customer.country'?: string | null;
  'partner.tags': readonly string[];
}

function scalarMatches(op: Condition['op'], actual: string | number | null | undefined, expected: Condition['value']): boolean {
  const list = Array.isArray(expected) ? expected : [expected];
  switch (op) {
    case 'eq':
      return actual === expected;
    case 'neq':
      return actual !== expected;
    case 'in':
      return actual != null && list.includes(actual);
    case 'nin':
      return actual == null || !list.includes(actual);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof actual !== 'number' || typeof expected !== 'number') return false;
      if (op === 'gt') return actual > expected;
      if (op === 'gte') return actual >= expected;
      if (op === 'lt') return actual < expected;
      return actual <= expected;
    }
    case 'contains':
      return false;
  }
}

/**
 * `partner.tags` is a set: `contains`/`eq` hold when P has the tag, `neq` when it does not, `in`
 * when P has any listed tag, `nin` when none.
 */
function tagsMatch(op: Condition['op'], tags: readonly string[], expected: Condition['value']): boolean {
  const list = (Array.isArray(expected) ? expected : [expected]).map(String);
  switch (op) {
    case 'contains':
    case 'eq':
      return tags.includes(String(expected));
    case 'neq':
      return !tags.includes(String(expected));
    case 'in':
      return tags.some((t) => list.includes(t));
    case 'nin':
      return !tags.some((t) => list.includes(t));
    default:
      return false;
  }
}

export function conditionHolds(c: Condition, subject: ConditionSubject): boolean {
  if (c.field === 'partner.tags') return tagsMatch(c.op, subject['partner.tags'], c.value);
  return scalarMatches(c.op, subject[c.field], c.value);
}

function firstMatchingModifier(modifiers: readonly Modifier[] | undefined, event: 'sale' | 'lead', subject: ConditionSubject): { modifier: Modifier; index: number } | null {
  const index = (modifiers ?? []).findIndex((m) => m.event === event && m.when.every((c) => conditionHolds(c, subject)));
  return index < 0 ? null : { modifier: modifiers![index]!, index };
}

/** Step 7: clamp so P's non-reversed earnings in the cap period do not exceed `cap.amount`. */
export function applyCap(rules: RulesDocument, capPeriodEarnings: number, amount: number): { amount: number; reason: string | null; step: Step | null } {
  if (!rules.cap) return { amount, reason: null, step: null };
  const room = Math.max(0, rules.cap.amount - capPeriodEarnings);
  if (amount <= room) {
    return { amount, reason: null, step: { step: 'cap', text: `${capPeriodEarnings} earned this ${rules.cap.period} of a ${rules.cap.amount} cap: not reached`, amount } };
  }
  return {
    amount: room,
    reason: 'cap_reached',
    step: { step: 'cap', text: `${capPeriodEarnings} earned this ${rules.cap.period} of a ${rules.cap.amount} cap: clamped ${amount} → ${room}`, amount: room },
  };
}

function notEarned(reason: string, text: string, occurredAt: Date): Evaluation {
  return { earns: false, amount: 0, reason, explanation: [{ step: 'eligibility', text }], payableAt: occurredAt };
}

export function evaluateSale(rules: RulesDocument, partner: PartnerContext, sale: SaleFacts): Evaluation {
  const t = sale.occurredAt;
  if (!rules.sale) return notEarned('no_sale_rule', 'the program has no sale reward', t);
  if (!partner.enrollmentApproved) return notEarned('enrollment_not_approved', "the partner's enrollment is not approved", t);

  // 1. Eligibility: within sale.duration counted from the customer's first attributed sale.
  const firstSaleAt = sale.firstSaleAt ?? t;
  const duration = rules.sale.duration ?? 'lifetime';
  const steps: Step[] = [];
  if (duration === 'once') {
    // A referral already exists, so this is a later sale — even one made in the same second as the
    // first (two invoices of one checkout, an import stamped at midnight), which comparing times paid too.
    if (sale.firstSaleAt) {
      return notEarned('outside_duration', `duration "once": only the first sale (${firstSaleAt.toISOString()}) earns`, t);
    }
    steps.push({ step: 'eligibility', text: 'duration "once": this is the first sale' });
  } else if (duration === 'lifetime') {
    steps.push({ step: 'eligibility', text: 'duration lifetime: every sale earns' });
  } else {
    const end = addCalendarMonths(firstSaleAt, duration.months);
    if (!(t < end)) return notEarned('outside_duration', `duration ${duration.months} months from ${firstSaleAt.toISOString()} ended ${end.toISOString()}`, t);
    steps.push({ step: 'eligibility', text: `within ${duration.months} months of the first sale (until ${end.toISOString()})` });
  }

  // 2. Base.
  let reward: RewardSpec = { type: rules.sale.type, amount: rules.sale.amount };
  steps.push({ step: 'base', text: `base ${describe(reward)}` });

  // 3. Tier: the level with the greatest min ≤ q(P, t); never retroactive because q only counts ≤ t.
  if (rules.tiers) {
    const q = qualifiedCount(partner.qualifiedAts, rules.tiers.period, t);
    const level = rules.tiers.levels.filter((l) => l.min <= q).sort((a, b) => b.min - a.min)[0];
    if (level) {
      reward = { type: level.type, amount: level.amount };
      steps.push({ step: 'tier', text: `q = ${q} qualified referrals this ${rules.tiers.period} ≥ min ${level.min}: ${describe(reward)}` });
    } else {
      steps.push({ step: 'tier', text: `q = ${q} qualified referrals this ${rules.tiers.period}: no level reached, base stays` });
    }
  }

  // 4. Modifiers: the first match in document order replaces the result of step 3.
  const match = firstMatchingModifier(rules.modifiers, 'sale', {
    'sale.amount': sale.amount,
    'sale.productId': sale.productId,
    'sale.currency': sale.currency,
    'customer.country': sale.customerCountry,
    'partner.tags': partner.partnerTags,
  });
  if (match) {
    reward = { type: match.modifier.type, amount: match.modifier.amount };
    steps.push({ step: 'modifier', text: `modifier #${match.index + 1} matches: ${describe(reward)}` });
  }

  // 5. Amount.
  let amount = reward.type === 'flat' ? reward.amount : percentOf(sale.amount, reward.amount);
  steps.push({
    step: 'amount',
    text: reward.type === 'flat' ? `flat ${amount}` : `${reward.amount} % of ${sale.amount} = ${amount}`,
    amount,
  });

  // 6. Boost: the largest multiplier among boosts covering t (from ≤ t < to) that apply to P.
  const boosts = (rules.boosts ?? []).filter(
    (b) => Date.parse(b.from) <= t.getTime() && t.getTime() < Date.parse(b.to) && (!b.partnerTags || b.partnerTags.some((tag) => partner.partnerTags.includes(tag))),
  );
  if (boosts.length > 0) {
    const multiplier = Math.max(...boosts.map((b) => b.multiplier));
    const boosted = multiplyAmount(amount, multiplier);
    steps.push({ step: 'boost', text: `boost × ${multiplier}: ${amount} → ${boosted}`, amount: boosted });
    amount = boosted;
  }

  // 7. Cap.
  const capped = applyCap(rules, partner.capPeriodEarnings, amount);
  if (capped.step) steps.push(capped.step);
  amount = capped.amount;

  // 8. Status.
  const holdDays = holdDaysOf(rules);
  const payableAt = addDays(t, holdDays);
  steps.push({ step: 'status', text: `pending; payable at ${payableAt.toISOString()} (${holdDays} hold days)`, amount });
  return { earns: true, amount, reason: capped.reason, explanation: steps, payableAt };
}

/**
 * Lead commission: `lead.amount` (flat only). A matching `lead` modifier replaces it (a percentage
 * modifier scales `lead.amount`, the only amount a lead has); caps count every kind, so they clamp
 * leads too. Boosts are defined on sales only (step 6) and do not apply.
 */
export function evaluateLead(rules: RulesDocument, partner: PartnerContext, lead: LeadFacts): Evaluation {
  const t = lead.occurredAt;
  if (!rules.lead) return notEarned('no_lead_rule', 'the program has no lead reward', t);
  if (!partner.enrollmentApproved) return notEarned('enrollment_not_approved', "the partner's enrollment is not approved", t);
  const steps: Step[] = [{ step: 'eligibility', text: 'first lead of this customer for the partner' }];
  let amount = rules.lead.amount;
  steps.push({ step: 'base', text: `lead flat ${amount}`, amount });
  const match = firstMatchingModifier(rules.modifiers, 'lead', { 'customer.country': lead.customerCountry, 'partner.tags': partner.partnerTags });
  if (match) {
    amount = match.modifier.type === 'flat' ? match.modifier.amount : percentOf(rules.lead.amount, match.modifier.amount);
    steps.push({ step: 'modifier', text: `modifier #${match.index + 1} matches: ${describe(match.modifier)} → ${amount}`, amount });
  }
  const capped = applyCap(rules, partner.capPeriodEarnings, amount);
  if (capped.step) steps.push(capped.step);
  amount = capped.amount;
  const holdDays = holdDaysOf(rules);
  const payableAt = addDays(t, holdDays);
  steps.push({ step: 'status', text: `pending; payable at ${payableAt.toISOString()} (${holdDays} hold days)`, amount });
  return { earns: true, amount, reason: capped.reason, explanation: steps, payableAt };
}
