import { FRAUD_RULES, type FraudSettings } from './rules.js';
import type { FraudFacts, FraudRule, FraudRuleType, FraudSignal } from './types.js';

/** Runs every enabled rule of the given scopes over the facts; the signals that fired, heaviest first. */
export function evaluateFraudRules(facts: FraudFacts, settings: FraudSettings, scopes: readonly ('conversion' | 'partner')[] = ['conversion', 'partner']): FraudSignal[] {
  const signals: FraudSignal[] = [];
  for (const type of Object.keys(FRAUD_RULES) as FraudRuleType[]) {
    const rule = FRAUD_RULES[type] as unknown as FraudRule;
    const config = settings.rules[type];
    if (!config.enabled || !scopes.includes(rule.scope)) continue;
    const fired = rule.evaluate(facts, config);
    if (fired) signals.push({ type, weight: config.weight, ...fired });
  }
  return signals.sort((a, b) => b.weight - a.weight || a.type.localeCompare(b.type));
}

export interface RiskAssessment {
  /** 0–100: the sum of the weights of the signals that fired, capped at 100. */
  score: number;
  /** Whether the commission should be held for review. */
  hold: boolean;
  signals: FraudSignal[];
}

/**
 * The risk of one conversion (or partner) from its signals. Additive on purpose: a reviewer can
 * recompute it from the listed weights, which an opaque model would not allow.
 */
export function scoreRisk(signals: readonly FraudSignal[], holdThreshold: number): RiskAssessment {
  const score = Math.min(100, signals.reduce((sum, s) => sum + s.weight, 0));
  const hold = signals.length > 0 && (score >= holdThreshold || signals.some((s) => s.strong && s.weight > 0));
  return { score, hold, signals: [...signals] };
}

/** Evaluates and scores one conversion with the program's settings. */
export function scoreConversion(facts: FraudFacts, settings: FraudSettings): RiskAssessment {
  return scoreRisk(evaluateFraudRules(facts, settings), settings.holdThreshold);
}

/** A partner's standing risk: the partner-scope rules only (refund rate, shared identities). */
export function scorePartner(facts: FraudFacts, settings: FraudSettings): RiskAssessment {
  return scoreRisk(evaluateFraudRules(facts, settings, ['partner']), settings.holdThreshold);
}
