import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fraudSettingsSchema } from '@tandem/contracts';
import { DEFAULT_HOLD_THRESHOLD, FRAUD_RULES, mergeFraudSettings, resolveFraudSettings } from './rules.js';
import { evaluateFraudRules, scoreConversion, scorePartner, scoreRisk } from './score.js';
import type { ConversionFacts, FraudFacts, FraudRuleType } from './types.js';
import { FRAUD_RULE_TYPES } from './types.js';
import { isDisposableDomain, DISPOSABLE_EMAIL_DOMAINS } from './disposable-domains.js';

const honestConversion: ConversionFacts = {
  kind: 'sale',
  customerEmailHash: 'h-customer',
  customerEmailDomain: 'example.com',
  ipHash: 'ip-customer',
  deviceHash: 'dev-customer',
  hasClick: true,
  hasCoupon: false,
  clickToConversionSeconds: 3600,
  paidClickParam: null,
};

function facts(overrides: { conversion?: Partial<ConversionFacts>; partner?: Partial<FraudFacts['partner']>; velocity?: FraudFacts['velocity']; identity?: FraudFacts['identity'] } = {}): FraudFacts {
  return {
    conversion: { ...honestConversion, ...overrides.conversion },
    partner: { id: 'ptn_a', emailHashes: ['h-partner'], ipHashes: ['ip-partner'], partnersSharingPayout: [], partnersSharingLogin: [], sales: 10, refundedSales: 0, ...overrides.partner },
    velocity: overrides.velocity ?? { clicksFromIp: 1, clicksOnLink: 5 },
    identity: overrides.identity ?? { customersSharingIp: 1, customersSharingDevice: 1 },
  };
}

const defaults = resolveFraudSettings();
function fired(f: FraudFacts, settings = defaults): FraudRuleType[] {
  return evaluateFraudRules(f, settings).map((s) => s.type);
}
function evaluateOne<T extends FraudRuleType>(type: T, f: FraudFacts, config: Partial<(typeof FRAUD_RULES)[T]['defaultConfig']> = {}) {
  const rule = FRAUD_RULES[type];
  return (rule.evaluate as (facts: FraudFacts, c: unknown) => unknown)(f, { ...rule.defaultConfig, ...config });
}

describe('the rule registry', () => {
  it('ships every rule the issue lists, each with a valid default config', () => {
    expect(Object.keys(FRAUD_RULES).sort()).toEqual([...FRAUD_RULE_TYPES].sort());
    for (const type of FRAUD_RULE_TYPES) {
      const rule = FRAUD_RULES[type];
      expect(rule.type).toBe(type);
      expect(rule.configSchema.safeParse(rule.defaultConfig).success).toBe(true);
    }
  });

  it('leaves honest traffic without any signal', () => {
    expect(fired(facts())).toEqual([]);
    expect(scoreConversion(facts(), defaults)).toEqual({ score: 0, hold: false, signals: [] });
  });

  it('skips a disabled rule', () => {
    const f = facts({ conversion: { customerEmailHash: 'h-partner' } });
    expect(fired(f)).toContain('self_referral');
    const off = resolveFraudSettings({ rules: { self_referral: { enabled: false } } });
    expect(fired(f, off)).not.toContain('self_referral');
  });
});

describe('self_referral', () => {
  it("fires on the partner's own email (compared as keyed hashes)", () => {
    const signal = evaluateOne('self_referral', facts({ conversion: { customerEmailHash: 'h-partner' } }));
    expect(signal).toMatchObject({ strong: true, evidence: { matched: 'email_hash', emailHash: 'h-partner' } });
  });
  it("fires on the partner's own IP hash", () => {
    expect(evaluateOne('self_referral', facts({ conversion: { ipHash: 'ip-partner' } }))).toMatchObject({ evidence: { matched: 'ip_hash' } });
  });
  it('does not fire for another email and IP', () => {
    expect(evaluateOne('self_referral', facts())).toBeNull();
    expect(evaluateOne('self_referral', facts({ conversion: { customerEmailHash: null, ipHash: null } }))).toBeNull();
  });
});

describe('duplicate_identity (threshold minCustomers = 3)', () => {
  it('does not fire at 2 customers on one IP or device', () => {
    expect(evaluateOne('duplicate_identity', facts({ identity: { customersSharingIp: 2, customersSharingDevice: 2 } }))).toBeNull();
  });
  it('fires at 3 customers sharing one IP hash', () => {
    expect(evaluateOne('duplicate_identity', facts({ identity: { customersSharingIp: 3, customersSharingDevice: 1 } }))).toMatchObject({ strong: false, evidence: { customersSharingIp: 3 } });
  });
  it('fires at 3 customers sharing one device', () => {
    expect(evaluateOne('duplicate_identity', facts({ identity: { customersSharingIp: 1, customersSharingDevice: 3 } }))).toMatchObject({ summary: expect.stringContaining('device') });
  });
  it('follows a per-program threshold', () => {
    expect(evaluateOne('duplicate_identity', facts({ identity: { customersSharingIp: 3, customersSharingDevice: 1 } }), { minCustomers: 4 })).toBeNull();
  });
});

describe('click_velocity (max 20 per IP, 1000 per link per hour)', () => {
  it('does not fire at exactly the maximum', () => {
    expect(evaluateOne('click_velocity', facts({ velocity: { clicksFromIp: 20, clicksOnLink: 1000 } }))).toBeNull();
  });
  it('fires one click over the per-IP maximum', () => {
    expect(evaluateOne('click_velocity', facts({ velocity: { clicksFromIp: 21, clicksOnLink: 21 } }))).toMatchObject({ summary: '21 clicks from one IP within 60 min' });
  });
  it('fires one click over the per-link maximum', () => {
    expect(evaluateOne('click_velocity', facts({ velocity: { clicksFromIp: 1, clicksOnLink: 1001 } }))).toMatchObject({ evidence: { clicksOnLink: 1001 } });
  });
  it('stays silent without velocity facts', () => {
    expect(evaluateOne('click_velocity', { ...facts(), velocity: undefined })).toBeNull();
  });
});

describe('instant_conversion (minSeconds = 10)', () => {
  it('fires at 9 seconds', () => {
    expect(evaluateOne('instant_conversion', facts({ conversion: { clickToConversionSeconds: 9 } }))).toMatchObject({ evidence: { clickToConversionSeconds: 9 } });
  });
  it('does not fire at 10 seconds', () => {
    expect(evaluateOne('instant_conversion', facts({ conversion: { clickToConversionSeconds: 10 } }))).toBeNull();
  });
  it('does not fire without a click', () => {
    expect(evaluateOne('instant_conversion', facts({ conversion: { clickToConversionSeconds: null } }))).toBeNull();
  });
});

describe('no_click_no_coupon', () => {
  it('fires with neither a click nor a coupon', () => {
    expect(evaluateOne('no_click_no_coupon', facts({ conversion: { hasClick: false, hasCoupon: false } }))).not.toBeNull();
  });
  it('does not fire with a coupon only or a click only', () => {
    expect(evaluateOne('no_click_no_coupon', facts({ conversion: { hasClick: false, hasCoupon: true } }))).toBeNull();
    expect(evaluateOne('no_click_no_coupon', facts({ conversion: { hasClick: true, hasCoupon: false } }))).toBeNull();
  });
});

describe('disposable_email', () => {
  it('fires on a shipped disposable domain and its subdomains', () => {
    expect(evaluateOne('disposable_email', facts({ conversion: { customerEmailDomain: 'mailinator.com' } }))).toMatchObject({ evidence: { domain: 'mailinator.com' } });
    expect(evaluateOne('disposable_email', facts({ conversion: { customerEmailDomain: 'EU.Mailinator.com' } }))).not.toBeNull();
  });
  it('does not fire on an ordinary domain or one that merely ends alike', () => {
    expect(evaluateOne('disposable_email', facts())).toBeNull();
    expect(evaluateOne('disposable_email', facts({ conversion: { customerEmailDomain: 'notmailinator.com' } }))).toBeNull();
  });
  it("fires on a program's extra domain", () => {
    expect(evaluateOne('disposable_email', facts({ conversion: { customerEmailDomain: 'burner.test' } }), { extraDomains: ['burner.test'] })).not.toBeNull();
  });
  it('keeps the shipped list lower-case and free of duplicates', () => {
    expect(new Set(DISPOSABLE_EMAIL_DOMAINS).size).toBe(DISPOSABLE_EMAIL_DOMAINS.length);
    expect(DISPOSABLE_EMAIL_DOMAINS.every((d) => d === d.toLowerCase())).toBe(true);
    expect(isDisposableDomain('com', DISPOSABLE_EMAIL_DOMAINS)).toBe(false);
  });
});

describe('paid_ad_click', () => {
  const gclid = facts({ conversion: { paidClickParam: 'gclid' } });
  it('does not fire while the program allows paid search (the default)', () => {
    expect(evaluateOne('paid_ad_click', gclid)).toBeNull();
  });
  it('fires on gclid, fbclid and msclkid when the program forbids paid search', () => {
    for (const param of ['gclid', 'fbclid', 'msclkid']) {
      expect(evaluateOne('paid_ad_click', facts({ conversion: { paidClickParam: param } }), { forbidPaidSearch: true })).toMatchObject({ evidence: { param } });
    }
  });
  it('does not fire on an organic click or a parameter not on the list', () => {
    expect(evaluateOne('paid_ad_click', facts(), { forbidPaidSearch: true })).toBeNull();
    expect(evaluateOne('paid_ad_click', gclid, { forbidPaidSearch: true, params: ['fbclid'] })).toBeNull();
  });
});

describe('refund_rate (more than 30 % of at least 5 sales)', () => {
  it('does not fire at exactly 30 %', () => {
    expect(evaluateOne('refund_rate', facts({ partner: { sales: 10, refundedSales: 3 } }))).toBeNull();
  });
  it('fires just above 30 %', () => {
    expect(evaluateOne('refund_rate', facts({ partner: { sales: 10, refundedSales: 4 } }))).toMatchObject({ evidence: { refundPercent: 40 } });
  });
  it('does not fire below the minimum number of sales', () => {
    expect(evaluateOne('refund_rate', facts({ partner: { sales: 4, refundedSales: 4 } }))).toBeNull();
    expect(evaluateOne('refund_rate', facts({ partner: { sales: 5, refundedSales: 5 } }))).not.toBeNull();
  });
});

describe('shared identities', () => {
  it('fires shared_payout_details as a strong signal naming the other partners', () => {
    expect(evaluateOne('shared_payout_details', facts({ partner: { partnersSharingPayout: ['ptn_c', 'ptn_b'] } }))).toMatchObject({ strong: true, evidence: { partnerIds: ['ptn_b', 'ptn_c'] } });
    expect(evaluateOne('shared_payout_details', facts())).toBeNull();
  });
  it('fires shared_login when another partner has the same login', () => {
    expect(evaluateOne('shared_login', facts({ partner: { partnersSharingLogin: ['ptn_b'] } }))).toMatchObject({ strong: false });
    expect(evaluateOne('shared_login', facts())).toBeNull();
  });
});

describe('risk scoring with the defaults', () => {
  it('holds a self-referral alone', () => {
    const risk = scoreConversion(facts({ conversion: { customerEmailHash: 'h-partner' } }), defaults);
    expect(risk).toMatchObject({ score: 100, hold: true });
    expect(risk.signals.map((s) => s.type)).toEqual(['self_referral']);
  });
  it('holds a shared payout identity alone', () => {
    expect(scoreConversion(facts({ partner: { partnersSharingPayout: ['ptn_b'] } }), defaults).hold).toBe(true);
  });
  it('does not hold one weak signal alone', () => {
    expect(scoreConversion(facts({ velocity: { clicksFromIp: 50, clicksOnLink: 50 } }), defaults)).toMatchObject({ score: 30, hold: false });
    expect(scoreConversion(facts({ conversion: { clickToConversionSeconds: 2 } }), defaults)).toMatchObject({ score: 30, hold: false });
  });
  it('holds weak signals that add up (velocity + instant conversion)', () => {
    const risk = scoreConversion(facts({ velocity: { clicksFromIp: 50, clicksOnLink: 50 }, conversion: { clickToConversionSeconds: 2 } }), defaults);
    expect(risk).toMatchObject({ score: DEFAULT_HOLD_THRESHOLD, hold: true });
  });
  it("follows a program's threshold", () => {
    const lenient = resolveFraudSettings({ holdThreshold: 61 });
    expect(scoreConversion(facts({ velocity: { clicksFromIp: 50, clicksOnLink: 50 }, conversion: { clickToConversionSeconds: 2 } }), lenient).hold).toBe(false);
  });
  it("scores a partner on the partner-scope rules only", () => {
    const f = facts({ conversion: { customerEmailHash: 'h-partner' }, partner: { sales: 10, refundedSales: 5 } });
    expect(scorePartner(f, defaults).signals.map((s) => s.type)).toEqual(['refund_rate']);
  });
  it('caps the score at 100 and never holds without a signal (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ weight: fc.integer({ min: 0, max: 100 }), strong: fc.boolean() }), { maxLength: 12 }), fc.integer({ min: 1, max: 100 }), (parts, threshold) => {
        const signals = parts.map((p) => ({ type: 'click_velocity' as const, summary: '', evidence: {}, ...p }));
        const risk = scoreRisk(signals, threshold);
        expect(risk.score).toBeGreaterThanOrEqual(0);
        expect(risk.score).toBeLessThanOrEqual(100);
        if (signals.length === 0) expect(risk.hold).toBe(false);
        if (risk.score >= threshold && signals.length > 0) expect(risk.hold).toBe(true);
      }),
    );
  });
});

describe('fraud settings', () => {
  it('refuses unknown rules and keys and out-of-range values', () => {
    expect(fraudSettingsSchema.safeParse({ rules: { nope: {} } }).success).toBe(false);
    expect(fraudSettingsSchema.safeParse({ rules: { instant_conversion: { minSeconds: 5, extra: 1 } } }).success).toBe(false);
    expect(fraudSettingsSchema.safeParse({ holdThreshold: 0 }).success).toBe(false);
    expect(fraudSettingsSchema.safeParse({ holdThreshold: 40, rules: { instant_conversion: { minSeconds: 5 } } }).success).toBe(true);
  });
  it('merges a change over stored overrides key by key', () => {
    const merged = mergeFraudSettings({ holdThreshold: 70, rules: { click_velocity: { maxClicksPerIp: 5 } } }, { rules: { click_velocity: { windowMinutes: 10 } } });
    expect(merged).toEqual({ holdThreshold: 70, rules: { click_velocity: { maxClicksPerIp: 5, windowMinutes: 10 } } });
    const settings = resolveFraudSettings(merged);
    expect(settings.rules.click_velocity).toMatchObject({ maxClicksPerIp: 5, windowMinutes: 10, maxClicksPerLink: 1000, enabled: true });
  });
});
