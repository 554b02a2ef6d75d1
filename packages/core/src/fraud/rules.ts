import type { z } from 'zod';
import {
  selfReferralConfig,
  duplicateIdentityConfig,
  clickVelocityConfig,
  instantConversionConfig,
  noClickNoCouponConfig,
  disposableEmailConfig,
  paidAdClickConfig,
  refundRateConfig,
  sharedPayoutConfig,
  sharedLoginConfig,
  type fraudSettingsSchema,
} from '@tandem/contracts';
import { AD_CLICK_ID_PARAMS } from '../clicks.js';
import { DISPOSABLE_EMAIL_DOMAINS, isDisposableDomain } from './disposable-domains.js';
import type { FraudRule, FraudRuleType, PartnerFacts } from './types.js';

const selfReferral: FraudRule<z.infer<typeof selfReferralConfig>> = {
  type: 'self_referral',
  scope: 'conversion',
  description: "The customer's email or IP hash is the partner's own.",
  configSchema: selfReferralConfig,
  defaultConfig: { enabled: true, weight: 100 },
  evaluate({ conversion, partner }) {
    if (!conversion) return null;
    const emailHash = conversion.customerEmailHash;
    if (emailHash && partner.emailHashes.includes(emailHash)) {
      return { strong: true, summary: "The customer's email is the partner's own", evidence: { matched: 'email_hash', emailHash } };
    }
    if (conversion.ipHash && partner.ipHashes.includes(conversion.ipHash)) {
      return { strong: true, summary: "The customer came from the partner's own IP address", evidence: { matched: 'ip_hash', ipHash: conversion.ipHash } };
    }
    return null;
  },
};

const duplicateIdentity: FraudRule<z.infer<typeof duplicateIdentityConfig>> = {
  type: 'duplicate_identity',
  scope: 'conversion',
  description: 'Many customers share one IP hash or device fingerprint within a window.',
  configSchema: duplicateIdentityConfig,
  defaultConfig: { enabled: true, weight: 40, windowHours: 24, minCustomers: 3 },
  evaluate({ identity }, config) {
    if (!identity) return null;
    const { customersSharingIp, customersSharingDevice } = identity;
    if (customersSharingIp < config.minCustomers && customersSharingDevice < config.minCustomers) return null;
    const by = customersSharingIp >= customersSharingDevice ? 'ip_hash' : 'device';
    const count = Math.max(customersSharingIp, customersSharingDevice);
    return {
      strong: false,
      summary: `${count} customers share one ${by === 'ip_hash' ? 'IP address' : 'device'} within ${config.windowHours} h`,
      evidence: { customersSharingIp, customersSharingDevice, windowHours: config.windowHours, minCustomers: config.minCustomers },
    };
  },
};

const clickVelocity: FraudRule<z.infer<typeof clickVelocityConfig>> = {
  type: 'click_velocity',
  scope: 'conversion',
  description: 'Too many clicks from one IP or on one link within a window.',
  configSchema: clickVelocityConfig,
  defaultConfig: { enabled: true, weight: 30, windowMinutes: 60, maxClicksPerIp: 20, maxClicksPerLink: 1000 },
  evaluate({ velocity }, config) {
    if (!velocity) return null;
    const ipTooFast = velocity.clicksFromIp > config.maxClicksPerIp;
    const linkTooFast = velocity.clicksOnLink > config.maxClicksPerLink;
    if (!ipTooFast && !linkTooFast) return null;
    const parts = [
      ...(ipTooFast ? [`${velocity.clicksFromIp} clicks from one IP`] : []),
      ...(linkTooFast ? [`${velocity.clicksOnLink} clicks on the link`] : []),
    ];
    return {
      strong: false,
      summary: `${parts.join(' and ')} within ${config.windowMinutes} min`,
      evidence: { ...velocity, windowMinutes: config.windowMinutes, maxClicksPerIp: config.maxClicksPerIp, maxClicksPerLink: config.maxClicksPerLink },
    };
  },
};

const instantConversion: FraudRule<z.infer<typeof instantConversionConfig>> = {
  type: 'instant_conversion',
  scope: 'conversion',
  description: 'The conversion came faster after the click than a person plausibly converts.',
  configSchema: instantConversionConfig,
  defaultConfig: { enabled: true, weight: 30, minSeconds: 10 },
  evaluate({ conversion }, config) {
    const seconds = conversion?.clickToConversionSeconds;
    if (seconds === null || seconds === undefined || seconds >= config.minSeconds) return null;
    return { strong: false, summary: `Converted ${seconds}s after the click`, evidence: { clickToConversionSeconds: seconds, minSeconds: config.minSeconds } };
  },
};

const noClickNoCoupon: FraudRule<z.infer<typeof noClickNoCouponConfig>> = {
  type: 'no_click_no_coupon',
  scope: 'conversion',
  description: 'The conversion carries neither a click nor a coupon code.',
  configSchema: noClickNoCouponConfig,
  defaultConfig: { enabled: true, weight: 20 },
  evaluate({ conversion }) {
    if (!conversion || conversion.hasClick || conversion.hasCoupon) return null;
    return { strong: false, summary: 'No click and no coupon code led to this conversion', evidence: { hasClick: false, hasCoupon: false } };
  },
};

const disposableEmail: FraudRule<z.infer<typeof disposableEmailConfig>> = {
  type: 'disposable_email',
  scope: 'conversion',
  description: 'The customer signed up with a throw-away mailbox.',
  configSchema: disposableEmailConfig,
  defaultConfig: { enabled: true, weight: 25, extraDomains: [] },
  evaluate({ conversion }, config) {
    const domain = conversion?.customerEmailDomain?.toLowerCase() ?? null;
    if (!domain || !isDisposableDomain(domain, [...DISPOSABLE_EMAIL_DOMAINS, ...config.extraDomains])) return null;
    return { strong: false, summary: `The customer's email is at the disposable domain ${domain}`, evidence: { domain } };
  },
};

const paidAdClick: FraudRule<z.infer<typeof paidAdClickConfig>> = {
  type: 'paid_ad_click',
  scope: 'conversion',
  description: 'The click came from a paid ad although the program forbids paid search.',
  configSchema: paidAdClickConfig,
  defaultConfig: { enabled: true, weight: 60, forbidPaidSearch: false, params: [...AD_CLICK_ID_PARAMS] },
  evaluate({ conversion }, config) {
    const param = conversion?.paidClickParam?.toLowerCase();
    if (!config.forbidPaidSearch || !param || !config.params.includes(param)) return null;
    return { strong: false, summary: `The click carried the paid-ad parameter ${param}; the program forbids paid search`, evidence: { param } };
  },
};

const refundRate: FraudRule<z.infer<typeof refundRateConfig>> = {
  type: 'refund_rate',
  scope: 'partner',
  description: "The partner's refund rate is above the threshold.",
  configSchema: refundRateConfig,
  defaultConfig: { enabled: true, weight: 40, maxRefundPercent: 30, minSales: 5 },
  evaluate({ partner }, config) {
    if (partner.sales < config.minSales) return null;
    // Integer comparison (refunded/sales > max%) without floating point at the boundary.
    if (partner.refundedSales * 100 <= config.maxRefundPercent * partner.sales) return null;
    const percent = Math.round((partner.refundedSales * 1000) / partner.sales) / 10;
    return {
      strong: false,
      summary: `${partner.refundedSales} of ${partner.sales} sales refunded (${percent}%)`,
      evidence: { sales: partner.sales, refundedSales: partner.refundedSales, refundPercent: percent, maxRefundPercent: config.maxRefundPercent },
    };
  },
};

/** Two partners of one workspace sharing an identity: the same check over a different list. */
function sharedIdentityRule(spec: {
  type: 'shared_payout_details' | 'shared_login';
  description: string;
  configSchema: typeof sharedPayoutConfig;
  weight: number;
  strong: boolean;
  others: (partner: PartnerFacts) => string[];
  what: string;
}): FraudRule<z.infer<typeof sharedPayoutConfig>> {
  return {
    type: spec.type,
    scope: 'partner',
    description: spec.description,
    configSchema: spec.configSchema,
    defaultConfig: { enabled: true, weight: spec.weight },
    evaluate({ partner }) {
      const others = spec.others(partner);
      if (others.length === 0) return null;
      return { strong: spec.strong, summary: `${spec.what} shared with ${others.length} other partner(s)`, evidence: { partnerIds: [...others].sort() } };
    },
  };
}

const sharedPayoutDetails = sharedIdentityRule({
  type: 'shared_payout_details', description: 'Another partner is paid to the same payout details.', configSchema: sharedPayoutConfig,
  weight: 100, strong: true, others: (p) => p.partnersSharingPayout, what: 'Payout details',
});

const sharedLogin = sharedIdentityRule({
  type: 'shared_login', description: 'Another partner signs in with the same login.', configSchema: sharedLoginConfig,
  weight: 50, strong: false, others: (p) => p.partnersSharingLogin, what: 'Login',
});

/** Every shipped rule, by type. Adding a rule = adding an entry here (and its type to the list). */
export const FRAUD_RULES = {
  self_referral: selfReferral,
  duplicate_identity: duplicateIdentity,
  click_velocity: clickVelocity,
  instant_conversion: instantConversion,
  no_click_no_coupon: noClickNoCoupon,
  disposable_email: disposableEmail,
  paid_ad_click: paidAdClick,
  refund_rate: refundRate,
  shared_payout_details: sharedPayoutDetails,
  shared_login: sharedLogin,
} as const satisfies Record<FraudRuleType, Pick<FraudRule, 'type' | 'scope' | 'description'>>;

export type FraudRuleConfigs = { [K in FraudRuleType]: (typeof FRAUD_RULES)[K]['defaultConfig'] };

export type FraudSettingsOverrides = z.infer<typeof fraudSettingsSchema>;

export interface FraudSettings {
  /** Risk score (0–100) at or above which a commission is held. */
  holdThreshold: number;
  rules: FraudRuleConfigs;
}

/**
 * Default threshold: a strong signal (self-referral, shared payout details) holds alone; of the
 * weaker ones, velocity (30) + an instant conversion (30) together hold, either alone does not.
 */
export const DEFAULT_HOLD_THRESHOLD = 60;

/** The effective settings: the defaults with a program's overrides laid over them, rule by rule. */
export function resolveFraudSettings(overrides: FraudSettingsOverrides = {}): FraudSettings {
  const rules = {} as Record<FraudRuleType, unknown>;
  for (const type of Object.keys(FRAUD_RULES) as FraudRuleType[]) {
    rules[type] = { ...FRAUD_RULES[type].defaultConfig, ...(overrides.rules?.[type] ?? {}) };
  }
  return { holdThreshold: overrides.holdThreshold ?? DEFAULT_HOLD_THRESHOLD, rules: rules as FraudRuleConfigs };
}

/** Overlays a change on stored overrides (rule by rule, key by key). */
export function mergeFraudSettings(current: FraudSettingsOverrides, change: FraudSettingsOverrides): FraudSettingsOverrides {
  const rules: Record<string, unknown> = { ...(current.rules ?? {}) };
  for (const [type, part] of Object.entries(change.rules ?? {})) {
    rules[type] = { ...((rules[type] as object | undefined) ?? {}), ...part };
  }
  const holdThreshold = change.holdThreshold ?? current.holdThreshold;
  return { ...(holdThreshold !== undefined ? { holdThreshold } : {}), rules: rules as FraudSettingsOverrides['rules'] };
}
