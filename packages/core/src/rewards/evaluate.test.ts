import { describe, expect, it } from 'vitest';
import { rulesDocument, type RulesDocument } from '@tandem/contracts';
import { capWindow, evaluateLead, evaluateSale, qualifiedCount, type PartnerContext, type SaleFacts } from './evaluate.js';
import { multiplyAmount, percentOf, proportionOf } from './money.js';
import { addCalendarMonths, periodEnd, periodKey, periodStart } from './periods.js';

const rules = (doc: unknown): RulesDocument => rulesDocument.parse(doc);
const d = (iso: string) => new Date(iso);
const partner = (over: Partial<PartnerContext> = {}): PartnerContext => ({ enrollmentApproved: true, partnerTags: [], qualifiedAts: [], capPeriodEarnings: 0, ...over });
const sale = (over: Partial<SaleFacts> = {}): SaleFacts => ({ amount: 10_000, currency: 'EUR', productId: null, occurredAt: d('2026-01-05T00:00:00Z'), customerCountry: null, firstSaleAt: null, ...over });

describe('money rounding', () => {
  it('rounds percentages with halves up, exactly in integers', () => {
    expect(percentOf(10_000, 10)).toBe(1000);
    expect(percentOf(5, 10)).toBe(1); // 0.5 → 1
    expect(percentOf(4, 10)).toBe(0); // 0.4 → 0
    expect(percentOf(1, 12.5)).toBe(0); // 0.125 → 0
    expect(percentOf(4, 12.5)).toBe(1); // 0.5 → 1
    expect(percentOf(9_007_199_254_740, 33.33)).toBe(3_002_099_511_605); // beyond 2^53 in the product
  });
  it('rounds multipliers and proportions with halves up', () => {
    expect(multiplyAmount(1001, 1.5)).toBe(1502); // 1501.5 → 1502
    expect(multiplyAmount(1000, 1.5)).toBe(1500);
    expect(proportionOf(1000, 1, 3)).toBe(333);
    expect(proportionOf(1000, 2, 3)).toBe(667);
    expect(proportionOf(3, 1, 2)).toBe(2); // 1.5 → 2
  });
});

describe('calendar periods in UTC', () => {
  it('finds month, quarter and year boundaries', () => {
    const t = d('2026-05-31T23:59:59.999Z');
    expect(periodStart('month', t).toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(periodEnd('month', t).toISOString()).toBe('2026-06-01T00:00:00.000Z');
    expect(periodStart('quarter', t).toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(periodEnd('quarter', d('2026-12-31T00:00:00Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(periodStart('year', t).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(periodKey('quarter', t)).toBe('2026-Q2');
    expect(periodKey('month', t)).toBe('2026-05');
    expect(periodKey('year', t)).toBe('2026');
  });
  it('adds calendar months clamping to the end of shorter months (Jan 31 + 1 month = Feb 28)', () => {
    expect(addCalendarMonths(d('2026-01-31T10:00:00Z'), 1).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addCalendarMonths(d('2028-01-31T10:00:00Z'), 1).toISOString()).toBe('2028-02-29T10:00:00.000Z');
    expect(addCalendarMonths(d('2026-11-15T00:00:00Z'), 3).toISOString()).toBe('2027-02-15T00:00:00.000Z');
  });
});

describe('evaluateSale', () => {
  it('earns nothing without a sale rule or without an approved enrollment', () => {
    expect(evaluateSale(rules({ lead: { type: 'flat', amount: 5 } }), partner(), sale())).toMatchObject({ earns: false, reason: 'no_sale_rule' });
    expect(evaluateSale(rules({ sale: { type: 'flat', amount: 5 } }), partner({ enrollmentApproved: false }), sale())).toMatchObject({ earns: false, reason: 'enrollment_not_approved' });
  });

  it('flat and percentage bases, with status pending payable after holdDays', () => {
    const flat = evaluateSale(rules({ sale: { type: 'flat', amount: 700 }, qualification: { holdDays: 30 } }), partner(), sale());
    expect(flat).toMatchObject({ earns: true, amount: 700, reason: null });
    expect(flat.payableAt.toISOString()).toBe('2026-02-04T00:00:00.000Z');
    const pct = evaluateSale(rules({ sale: { type: 'percentage', amount: 12.5 } }), partner(), sale({ amount: 999 }));
    expect(pct.amount).toBe(125); // 124.875 → 125
    expect(pct.explanation.map((s) => s.step)).toEqual(['eligibility', 'base', 'amount', 'status']);
  });

  describe('duration', () => {
    const once = rules({ sale: { type: 'flat', amount: 100, duration: 'once' } });
    const months = rules({ sale: { type: 'flat', amount: 100, duration: { months: 1 } } });
    it('"once" pays only the first sale', () => {
      expect(evaluateSale(once, partner(), sale()).earns).toBe(true);
      expect(evaluateSale(once, partner(), sale({ firstSaleAt: d('2026-01-01T00:00:00Z') }))).toMatchObject({ earns: false, reason: 'outside_duration' });
    });
    it('"once" does not pay a second sale made at the same instant as the first', () => {
      const at = d('2026-03-01T00:00:00Z');
      expect(evaluateSale(once, partner(), sale({ occurredAt: at, firstSaleAt: at }))).toMatchObject({ earns: false, reason: 'outside_duration' });
    });
    it('{months: N} pays strictly before firstSale + N calendar months (Jan 31 + 1 month = Feb 28)', () => {
      const first = d('2026-01-31T12:00:00Z');
      expect(evaluateSale(months, partner(), sale({ firstSaleAt: first, occurredAt: d('2026-02-28T11:59:59.999Z') })).earns).toBe(true);
      expect(evaluateSale(months, partner(), sale({ firstSaleAt: first, occurredAt: d('2026-02-28T12:00:00Z') }))).toMatchObject({ earns: false, reason: 'outside_duration' });
    });
    it('lifetime is the default', () => {
      expect(evaluateSale(rules({ sale: { type: 'flat', amount: 1 } }), partner(), sale({ firstSaleAt: d('2000-01-01T00:00:00Z') })).earns).toBe(true);
    });
  });

  describe('tiers', () => {
    const tiered = rules({ sale: { type: 'percentage', amount: 10 }, tiers: { period: 'quarter', levels: [{ min: 2, type: 'percentage', amount: 15 }, { min: 5, type: 'flat', amount: 4000 }] } });
    const t = d('2026-02-15T00:00:00Z');
    it('applies the level whose min equals q exactly', () => {
      const q2 = [d('2026-01-10T00:00:00Z'), d('2026-02-01T00:00:00Z')];
      expect(evaluateSale(tiered, partner({ qualifiedAts: q2 }), sale({ occurredAt: t })).amount).toBe(1500);
      expect(evaluateSale(tiered, partner({ qualifiedAts: q2.slice(0, 1) }), sale({ occurredAt: t })).amount).toBe(1000);
    });
    it('picks the greatest matching min', () => {
      const q5 = Array.from({ length: 5 }, (_, i) => d(`2026-01-1${i}T00:00:00Z`));
      expect(evaluateSale(tiered, partner({ qualifiedAts: q5 }), sale({ occurredAt: t })).amount).toBe(4000);
    });
    it('counts only qualifications in the same period and not after the sale (never retroactive)', () => {
      const qs = [d('2025-12-31T23:59:59Z'), d('2026-01-02T00:00:00Z'), d('2026-02-15T00:00:01Z')];
      expect(qualifiedCount(qs, 'quarter', t)).toBe(1);
      expect(evaluateSale(tiered, partner({ qualifiedAts: qs }), sale({ occurredAt: t })).amount).toBe(1000);
      expect(qualifiedCount([t], 'quarter', t)).toBe(1); // qualifiedAt = t counts (≤ t)
    });
  });

  describe('modifiers', () => {
    const modified = rules({
      sale: { type: 'percentage', amount: 20 },
      modifiers: [
        { event: 'lead', when: [], type: 'flat', amount: 1 },
        { event: 'sale', when: [{ field: 'sale.amount', op: 'gte', value: 50_000 }], type: 'percentage', amount: 25 },
        { event: 'sale', when: [{ field: 'partner.tags', op: 'contains', value: 'vip' }], type: 'flat', amount: 9999 },
        { event: 'sale', when: [{ field: 'customer.country', op: 'in', value: ['DE', 'AT'] }, { field: 'sale.productId', op: 'eq', value: 'pro' }], type: 'flat', amount: 3000 },
      ],
    });
    it('the first matching sale modifier in document order replaces the rate', () => {
      expect(evaluateSale(modified, partner({ partnerTags: ['vip'] }), sale({ amount: 50_000 })).amount).toBe(12_500);
      expect(evaluateSale(modified, partner({ partnerTags: ['vip'] }), sale({ amount: 49_999 })).amount).toBe(9999);
    });
    it('needs every condition to hold', () => {
      expect(evaluateSale(modified, partner(), sale({ customerCountry: 'DE', productId: 'pro' })).amount).toBe(3000);
      expect(evaluateSale(modified, partner(), sale({ customerCountry: 'DE', productId: 'basic' })).amount).toBe(2000);
      expect(evaluateSale(modified, partner(), sale({ customerCountry: null, productId: 'pro' })).amount).toBe(2000);
    });
    it('supports every operator', () => {
      const op = (field: string, o: string, value: unknown, s: Partial<SaleFacts>, tags: string[] = []) =>
        evaluateSale(rules({ sale: { type: 'flat', amount: 1 }, modifiers: [{ event: 'sale', when: [{ field, op: o, value }], type: 'flat', amount: 2 }] }), partner({ partnerTags: tags }), sale(s)).amount === 2;
      expect(op('sale.currency', 'eq', 'EUR', {})).toBe(true);
      expect(op('sale.currency', 'neq', 'EUR', {})).toBe(false);
      expect(op('sale.amount', 'gt', 10_000, {})).toBe(false);
      expect(op('sale.amount', 'lt', 10_001, {})).toBe(true);
      expect(op('sale.amount', 'lte', 10_000, {})).toBe(true);
      expect(op('customer.country', 'nin', ['FR'], { customerCountry: 'DE' })).toBe(true);
      expect(op('customer.country', 'nin', ['DE'], { customerCountry: 'DE' })).toBe(false);
      expect(op('partner.tags', 'in', ['a', 'b'], {}, ['b'])).toBe(true);
      expect(op('partner.tags', 'nin', ['a', 'b'], {}, ['b'])).toBe(false);
      expect(op('partner.tags', 'neq', 'a', {}, ['b'])).toBe(true);
    });
  });

  describe('boosts', () => {
    const boosted = rules({
      sale: { type: 'flat', amount: 1000 },
      boosts: [
        { from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z', multiplier: 1.5 },
        { from: '2026-12-10T00:00:00Z', to: '2026-12-20T00:00:00Z', multiplier: 3, partnerTags: ['launch'] },
      ],
    });
    it('applies at from and not at to', () => {
      expect(evaluateSale(boosted, partner(), sale({ occurredAt: d('2026-12-01T00:00:00Z') })).amount).toBe(1500);
      expect(evaluateSale(boosted, partner(), sale({ occurredAt: d('2026-11-30T23:59:59.999Z') })).amount).toBe(1000);
      expect(evaluateSale(boosted, partner(), sale({ occurredAt: d('2027-01-01T00:00:00Z') })).amount).toBe(1000);
      expect(evaluateSale(boosted, partner(), sale({ occurredAt: d('2026-12-31T23:59:59.999Z') })).amount).toBe(1500);
    });
    it('takes the largest multiplier among boosts applying to the partner', () => {
      const t = d('2026-12-15T00:00:00Z');
      expect(evaluateSale(boosted, partner({ partnerTags: ['launch'] }), sale({ occurredAt: t })).amount).toBe(3000);
      expect(evaluateSale(boosted, partner({ partnerTags: ['other'] }), sale({ occurredAt: t })).amount).toBe(1500);
    });
  });

  describe('cap', () => {
    const capped = rules({ sale: { type: 'flat', amount: 1000 }, cap: { period: 'month', amount: 5000 } });
    it('does not clamp when the cap is exactly reached', () => {
      expect(evaluateSale(capped, partner({ capPeriodEarnings: 4000 }), sale())).toMatchObject({ amount: 1000, reason: null });
    });
    it('clamps to the remaining room and records 0 with cap_reached once reached', () => {
      expect(evaluateSale(capped, partner({ capPeriodEarnings: 4500 }), sale())).toMatchObject({ earns: true, amount: 500, reason: 'cap_reached' });
      expect(evaluateSale(capped, partner({ capPeriodEarnings: 5000 }), sale())).toMatchObject({ earns: true, amount: 0, reason: 'cap_reached' });
    });
    it('gives the cap window containing the event', () => {
      expect(capWindow(capped, d('2026-03-31T23:00:00Z'))).toEqual({ from: d('2026-03-01T00:00:00Z'), to: d('2026-04-01T00:00:00Z') });
      expect(capWindow(rules({}), d('2026-03-31T23:00:00Z'))).toBeNull();
    });
  });

  it('explains every step with its numbers: base → tier → modifier → boost → cap', () => {
    const all = rules({
      sale: { type: 'percentage', amount: 10 },
      tiers: { period: 'quarter', levels: [{ min: 1, type: 'percentage', amount: 15 }] },
      modifiers: [{ event: 'sale', when: [{ field: 'sale.amount', op: 'gte', value: 10_000 }], type: 'percentage', amount: 20 }],
      boosts: [{ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', multiplier: 2 }],
      cap: { period: 'month', amount: 3000 },
    });
    const result = evaluateSale(all, partner({ qualifiedAts: [d('2026-01-02T00:00:00Z')], capPeriodEarnings: 0 }), sale());
    expect(result.amount).toBe(3000);
    expect(result.reason).toBe('cap_reached');
    expect(result.explanation.map((s) => s.step)).toEqual(['eligibility', 'base', 'tier', 'modifier', 'amount', 'boost', 'cap', 'status']);
    expect(result.explanation.find((s) => s.step === 'amount')!.text).toBe('20 % of 10000 = 2000');
    expect(result.explanation.find((s) => s.step === 'boost')!.text).toBe('boost × 2: 2000 → 4000');
    expect(result.explanation.find((s) => s.step === 'cap')!.text).toContain('clamped 4000 → 3000');
  });
});

describe('evaluateLead', () => {
  it('pays lead.amount, pending until holdDays, clamped by the cap', () => {
    const r = rules({ lead: { type: 'flat', amount: 500 }, qualification: { holdDays: 2 }, cap: { period: 'month', amount: 600 } });
    const lead = evaluateLead(r, partner(), { occurredAt: d('2026-01-01T00:00:00Z'), customerCountry: null });
    expect(lead).toMatchObject({ earns: true, amount: 500 });
    expect(lead.payableAt.toISOString()).toBe('2026-01-03T00:00:00.000Z');
    expect(evaluateLead(r, partner({ capPeriodEarnings: 300 }), { occurredAt: d('2026-01-01T00:00:00Z'), customerCountry: null })).toMatchObject({ amount: 300, reason: 'cap_reached' });
  });
  it('earns nothing without a lead rule or an approved enrollment; applies lead modifiers', () => {
    expect(evaluateLead(rules({}), partner(), { occurredAt: d('2026-01-01T00:00:00Z'), customerCountry: null }).earns).toBe(false);
    expect(evaluateLead(rules({ lead: { type: 'flat', amount: 5 } }), partner({ enrollmentApproved: false }), { occurredAt: d('2026-01-01T00:00:00Z'), customerCountry: null }).earns).toBe(false);
    const m = rules({ lead: { type: 'flat', amount: 500 }, modifiers: [{ event: 'lead', when: [{ field: 'customer.country', op: 'eq', value: 'US' }], type: 'flat', amount: 800 }] });
    expect(evaluateLead(m, partner(), { occurredAt: d('2026-01-01T00:00:00Z'), customerCountry: 'US' }).amount).toBe(800);
    expect(evaluateLead(m, partner(), { occurredAt: d('2026-01-01T00:00:00Z'), customerCountry: 'FR' }).amount).toBe(500);
  });
});
