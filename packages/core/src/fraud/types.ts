import type { z } from 'zod';

/**
 * Everything the fraud rules may look at, assembled by the server as plain data. Each rule reads
 * the part it needs; a part the server could not assemble is absent and the rules reading it stay
 * silent rather than guess.
 */
export interface FraudFacts {
  /** The conversion being scored (absent when scoring a partner as a whole). */
  conversion?: ConversionFacts;
  partner: PartnerFacts;
  /** Clicks counted over the click-velocity rule's window, ending at the conversion's click. */
  velocity?: { clicksFromIp: number; clicksOnLink: number };
  /** Distinct customers of the program seen over the duplicate-identity rule's window. */
  identity?: { customersSharingIp: number; customersSharingDevice: number };
}

export interface ConversionFacts {
  kind: 'lead' | 'sale';
  /**
   * Keyed hash of the customer's normalised email (Tandem keeps no plain address), compared with
   * the partner's own address hashed the same way.
   */
  customerEmailHash: string | null;
  /** The domain of the customer's email, when the conversion carried one (disposable check). */
  customerEmailDomain: string | null;
  /** Keyed hash of the IP of the click that attributed the conversion. */
  ipHash: string | null;
  /** Keyed hash of the visitor (device fingerprint) of that click. */
  deviceHash: string | null;
  hasClick: boolean;
  hasCoupon: boolean;
  /** Seconds from the attributing click to the conversion; null without a click. */
  clickToConversionSeconds: number | null;
  /** Paid-ad click parameter present when the visitor landed (`gclid`, `fbclid`, …). */
  paidClickParam: string | null;
}

export interface PartnerFacts {
  id: string;
  /** Keyed hashes of the partner's own addresses: its partner email and the email of its login. */
  emailHashes: string[];
  /** IP hashes the partner itself is known by (portal sign-ins, its own requests). */
  ipHashes: string[];
  /** Other partners of the workspace with the same payout details. */
  partnersSharingPayout: string[];
  /** Other partners of the workspace signed in by the same user (login identity). */
  partnersSharingLogin: string[];
  /** Sales of this partner and how many of them were refunded (fully or partly). */
  sales: number;
  refundedSales: number;
}

/** One rule that fired: why, how much it weighs, and the evidence a reviewer sees. */
export interface FraudSignal {
  type: FraudRuleType;
  weight: number;
  /** A strong signal holds the commission on its own, whatever the threshold. */
  strong: boolean;
  /** One sentence a reviewer can read. */
  summary: string;
  evidence: Record<string, unknown>;
}

/** Settings every rule has, plus its own parameters. */
export interface BaseRuleConfig {
  enabled: boolean;
  /** Points added to the risk score when the rule fires (0–100). */
  weight: number;
}

export const FRAUD_RULE_TYPES = [
  'self_referral',
  'duplicate_identity',
  'click_velocity',
  'instant_conversion',
  'no_click_no_coupon',
  'disposable_email',
  'paid_ad_click',
  'refund_rate',
  'shared_payout_details',
  'shared_login',
] as const;
export type FraudRuleType = (typeof FRAUD_RULE_TYPES)[number];

/**
 * A fraud rule as data: its type, the schema of its per-program settings, the defaults that work
 * without tuning, and a pure evaluation. `scope` says whether it judges one conversion or the
 * partner as a whole (partner-scope rules also apply to each of the partner's conversions).
 */
export interface FraudRule<C extends BaseRuleConfig = BaseRuleConfig> {
  type: FraudRuleType;
  scope: 'conversion' | 'partner';
  description: string;
  configSchema: z.ZodType<C>;
  defaultConfig: C;
  evaluate(facts: FraudFacts, config: C): Omit<FraudSignal, 'type' | 'weight'> | null;
}
