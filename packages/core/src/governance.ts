/*
 * How a program decides on applications: pure functions of the votes, the criteria and the clock.
 */

export type CouncilOutcome = 'approved' | 'rejected' | 'pending';

export interface CouncilTally {
  quorum: number;
  reviewerCount: number;
  approvals: number;
  rejections: number;
}

/**
 * `quorum` approvals approve. Rejections reject as soon as quorum has become impossible, i.e. the
 * approvals so far plus every reviewer who has not voted yet can no longer reach it — waiting for
 * the remaining votes could not change the outcome.
 */
export function councilOutcome(t: CouncilTally): CouncilOutcome {
  if (t.approvals >= t.quorum) return 'approved';
  const notYetVoted = Math.max(0, t.reviewerCount - t.approvals - t.rejections);
  if (t.approvals + notYetVoted < t.quorum) return 'rejected';
  return 'pending';
}

export interface AutoCriteria {
  requireWebsite?: boolean;
  minAudienceSize?: number;
  categories?: string[];
}

export interface ApplicationFacts {
  website?: string | null;
  audienceSize?: number | null;
  category?: string | null;
}

/** Checks an application against auto-approval criteria; each unmet criterion names the field. */
export function unmetCriteria(criteria: AutoCriteria, facts: ApplicationFacts): { path: string; message: string }[] {
  const unmet: { path: string; message: string }[] = [];
  if (criteria.requireWebsite && !facts.website) unmet.push({ path: 'website', message: 'a website is required' });
  if (criteria.minAudienceSize !== undefined && (facts.audienceSize ?? 0) < criteria.minAudienceSize) {
    unmet.push({ path: 'audienceSize', message: `must be at least ${criteria.minAudienceSize}` });
  }
  if (criteria.categories && criteria.categories.length > 0) {
    const wanted = new Set(criteria.categories.map((c) => c.trim().toLowerCase()));
    if (!facts.category || !wanted.has(facts.category.trim().toLowerCase())) unmet.push({ path: 'category', message: `must be one of: ${criteria.categories.join(', ')}` });
  }
  return unmet;
}

/** When someone rejected at `rejectedAt` may apply again. */
export function reapplicationOpensAt(rejectedAt: Date, cooldownDays: number): Date {
  return new Date(rejectedAt.getTime() + cooldownDays * 86_400_000);
}
