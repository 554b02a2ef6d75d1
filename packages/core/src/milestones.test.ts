import { describe, expect, it } from 'vitest';
import { buildMilestones, formatMinorUnits, nextQuarterStarts } from './milestones.js';

describe('buildMilestones', () => {
  const milestones = buildMilestones({ programName: 'Acme', currency: 'USD', payoutThreshold: 5000, holdDays: 30, startsAt: new Date('2026-05-20T15:00:00Z') });

  it('dates the first link, first referral and payout threshold from the approval', () => {
    expect(milestones.slice(0, 3).map((m) => [m.id, m.date])).toEqual([
      ['first-link-shared', '2026-05-27'],
      ['first-referral', '2026-06-19'],
      ['first-payout-threshold', '2026-08-18'],
    ]);
    expect(milestones[2]!.title).toContain('50.00 USD');
  });

  it('adds a review at the start of each of the next four quarters', () => {
    expect(milestones.filter((m) => m.kind === 'quarterly_review').map((m) => [m.id, m.date])).toEqual([
      ['quarterly-review-2026-q2', '2026-07-01'],
      ['quarterly-review-2026-q3', '2026-10-01'],
      ['quarterly-review-2026-q4', '2027-01-01'],
      ['quarterly-review-2027-q1', '2027-04-01'],
    ]);
  });
});

describe('helpers', () => {
  it('rolls quarters over the year', () => {
    expect(nextQuarterStarts(new Date('2026-12-31T23:00:00Z'), 2).map((d) => d.toISOString().slice(0, 10))).toEqual(['2027-01-01', '2027-04-01']);
  });
  it('formats minor units', () => {
    expect(formatMinorUnits(5, 'EUR')).toBe('0.05 EUR');
    expect(formatMinorUnits(123456, 'USD')).toBe('1234.56 USD');
  });
});
