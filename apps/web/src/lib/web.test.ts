import { describe, expect, it } from 'vitest';
import { fillPath } from '../api';
import { checkRules } from '../pages/program';
import { describeRules } from '../pages/programs';
import { periodRange } from '../pages/overview';
import { copySnippets, describePartnerEvent } from '../pages/portal';
import { formatMoney, formatMoneyCompact } from './format';

describe('web helpers', () => {
  it('checks rules text as the server does, naming the path of each problem', () => {
    expect(checkRules('{"sale": {"type": "percentage", "amount": 25}}')).toEqual({
      rules: { sale: { type: 'percentage', amount: 25 } },
      problems: [],
    });
    expect(checkRules('{"sale": {"type": "percentage", "amount": 120}}').problems.map((p) => p.path)).toEqual(['sale.amount']);
    expect(checkRules('{"sale": ').problems[0]!.message).toMatch(/^Not valid JSON/);
    expect(checkRules('{"bonus": 1}').problems[0]!.path).toBe('');
  });

  it('summarises rules in a sentence', () => {
    expect(describeRules({ sale: { type: 'percentage', amount: 20 }, lead: { type: 'flat', amount: 250 } }, 'USD')).toBe(
      '20% of each sale · $2.50 per lead',
    );
    expect(describeRules({}, 'USD')).toBe('No rewards yet');
  });

  it('shortens large amounts for stat cards and keeps small ones exact', () => {
    expect(formatMoneyCompact(1_782_700, 'USD')).toBe('$17.8K');
    expect(formatMoneyCompact(123_456_789, 'USD')).toBe('$1.2M');
    expect(formatMoneyCompact(999_999, 'USD')).toBe('$9,999.99');
    expect(formatMoneyCompact(244, 'USD')).toBe('$2.44');
    expect(formatMoneyCompact(-1_500_000, 'USD')).toBe('-$15K');
    expect(formatMoneyCompact(2_500_000, 'JPY')).toBe('¥2.5M');
  });

  it('formats minor units in the currency’s own precision', () => {
    expect(formatMoney(5980, 'USD')).toBe('$59.80');
    expect(formatMoney(500, 'JPY')).toBe('¥500');
  });

  it('makes inclusive UTC date ranges ending today', () => {
    expect(periodRange(7, new Date('2026-11-21T23:30:00Z'))).toEqual({ from: '2026-11-15', to: '2026-11-21' });
    expect(periodRange(1, new Date('2026-03-01T00:10:00Z'))).toEqual({ from: '2026-03-01', to: '2026-03-01' });
  });

  it('fills contract paths and refuses a missing parameter', () => {
    expect(fillPath('/api/v1/payouts/batches/:batchId.csv', { batchId: 'pbt 1' })).toBe('/api/v1/payouts/batches/pbt%201.csv');
    expect(() => fillPath('/api/v1/programs/:id', {})).toThrow(/Missing path parameter id/);
  });

  it("fills ready-to-post copy with the partner's own link and coupon", () => {
    const kit = {
      program: { brand: 'Northwind' },
      couponCode: 'CASEY10',
      links: [
        { shortUrl: 'https://t.example/r/other', isDefault: false },
        { shortUrl: 'https://t.example/r/casey', isDefault: true },
      ],
    };
    const snippets = copySnippets(kit as never);
    expect(snippets).toHaveLength(3);
    for (const s of snippets) expect(s.text).toContain('https://t.example/r/casey');
    expect(snippets[0]!.text).toContain('CASEY10');
    expect(copySnippets({ ...kit, links: [] } as never)).toEqual([]);
  });

  it("describes a partner's own events", () => {
    expect(describePartnerEvent({ type: 'commission.created', data: { amount: 5980, currency: 'USD' } })).toBe('New commission · $59.80');
    expect(describePartnerEvent({ type: 'dispute.decided', data: { status: 'accepted' } })).toBe('Dispute decided · accepted');
  });
});
