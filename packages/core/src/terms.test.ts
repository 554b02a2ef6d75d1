import { describe, expect, it } from 'vitest';
import { effectiveTermsVersion, termsGraceEndsAt } from './terms.js';

const published = new Date('2026-03-01T00:00:00Z');
const standing = (acceptedVersion: number | null, currentVersion = 3) => ({ acceptedVersion, currentVersion, currentVersionCreatedAt: published, graceDays: 14 });
const day = 86_400_000;

describe('effectiveTermsVersion', () => {
  it('earns under the current version once accepted', () => {
    expect(effectiveTermsVersion(standing(3), new Date(published.getTime() + 100 * day))).toBe(3);
  });
  it('keeps earning under the accepted older version during the grace period', () => {
    expect(effectiveTermsVersion(standing(2), new Date(published.getTime() + 13 * day))).toBe(2);
  });
  it('has no version once the grace period is over', () => {
    expect(effectiveTermsVersion(standing(2), new Date(published.getTime() + 14 * day))).toBeNull();
  });
  it('has no version without any acceptance, and nothing to accept without terms', () => {
    expect(effectiveTermsVersion(standing(null), published)).toBeNull();
    expect(effectiveTermsVersion(standing(null, 0), published)).toBe(0);
  });
  it('computes the end of the grace period', () => {
    expect(termsGraceEndsAt(standing(1)).toISOString()).toBe('2026-03-15T00:00:00.000Z');
  });
});
