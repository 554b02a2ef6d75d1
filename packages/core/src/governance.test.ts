import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { councilOutcome, reapplicationOpensAt, unmetCriteria } from './governance.js';

describe('councilOutcome', () => {
  it('approves at quorum, rejects once quorum is impossible, else waits', () => {
    expect(councilOutcome({ quorum: 2, reviewerCount: 3, approvals: 2, rejections: 0 })).toBe('approved');
    expect(councilOutcome({ quorum: 2, reviewerCount: 3, approvals: 1, rejections: 1 })).toBe('pending');
    expect(councilOutcome({ quorum: 2, reviewerCount: 3, approvals: 0, rejections: 2 })).toBe('rejected');
    expect(councilOutcome({ quorum: 3, reviewerCount: 3, approvals: 0, rejections: 1 })).toBe('rejected');
  });

  it('decides exactly when further votes could not change the result', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), (reviewerCount, quorumRaw, a, r) => {
        const quorum = 1 + (quorumRaw % reviewerCount);
        if (a + r > reviewerCount) return;
        const outcome = councilOutcome({ quorum, reviewerCount, approvals: a, rejections: r });
        const remaining = reviewerCount - a - r;
        const canStillApprove = a + remaining >= quorum;
        const alreadyApproved = a >= quorum;
        if (alreadyApproved) expect(outcome).toBe('approved');
        else if (!canStillApprove) expect(outcome).toBe('rejected');
        else expect(outcome).toBe('pending');
      }),
    );
  });
});

describe('unmetCriteria', () => {
  const criteria = { requireWebsite: true, minAudienceSize: 1000, categories: ['Cycling', 'outdoor'] };
  it('passes an application meeting every criterion (category case-insensitively)', () => {
    expect(unmetCriteria(criteria, { website: 'https://ride.example', audienceSize: 5000, category: 'cycling' })).toEqual([]);
  });
  it('names each unmet criterion by field', () => {
    expect(unmetCriteria(criteria, { audienceSize: 10, category: 'cooking' }).map((u) => u.path)).toEqual(['website', 'audienceSize', 'category']);
  });
  it('accepts anything without criteria', () => {
    expect(unmetCriteria({}, {})).toEqual([]);
  });
});

describe('reapplicationOpensAt', () => {
  it('adds the cool-down in days', () => {
    expect(reapplicationOpensAt(new Date('2026-01-01T00:00:00Z'), 30).toISOString()).toBe('2026-01-31T00:00:00.000Z');
  });
});
