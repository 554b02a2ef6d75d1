import { describe, expect, it } from 'vitest';
import { rulesDocument } from './rules.js';

const example = {
  lead: { type: 'flat', amount: 500 },
  sale: { type: 'percentage', amount: 20, duration: { months: 12 } },
  modifiers: [{ event: 'sale', when: [{ field: 'sale.amount', op: 'gte', value: 50000 }], type: 'percentage', amount: 25 }],
  tiers: { period: 'quarter', levels: [{ min: 10, type: 'percentage', amount: 25 }, { min: 50, type: 'percentage', amount: 30 }] },
  bonuses: [
    { kind: 'milestone', period: 'quarter', threshold: 25, amount: 20000 },
    { kind: 'early_bird', period: 'quarter', first: 50, scope: 'program', amount: 1000 },
  ],
  boosts: [{ from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z', multiplier: 1.5, partnerTags: ['launch'] }],
  cap: { period: 'month', amount: 100000 },
  qualification: { holdDays: 30, minSaleAmount: 0 },
  customerReward: { type: 'percentage', amount: 10, durationMonths: 3 },
};

const paths = (value: unknown) => {
  const r = rulesDocument.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
};

describe('rulesDocument', () => {
  it('accepts the example of rewards.md and the empty document', () => {
    expect(rulesDocument.safeParse(example).success).toBe(true);
    expect(rulesDocument.safeParse({}).success).toBe(true);
  });

  it('names the path of each problem', () => {
    expect(paths({ sale: { type: 'percentage', amount: 12.345 } })).toEqual(['sale.amount']);
    expect(paths({ lead: { type: 'percentage', amount: 5 } })).toEqual(['lead.type']);
    expect(paths({ sale: { type: 'flat', amount: 10.5 } })).toEqual(['sale.amount']);
    expect(paths({ tiers: { period: 'week', levels: [] } })).toEqual(expect.arrayContaining(['tiers.period', 'tiers.levels']));
    expect(paths({ boosts: [{ from: '2027-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', multiplier: 2 }] })).toEqual(['boosts.0.to']);
    expect(paths({ modifiers: [{ event: 'sale', when: [{ field: 'sale.amount', op: 'in', value: 5 }], type: 'flat', amount: 1 }] })).toEqual(['modifiers.0.when.0.value']);
    expect(paths({ cap: { period: 'month', amount: 100, extra: true } })).toEqual(['cap']);
  });
});
