export interface TermsStanding {
  /** The terms version the partner accepted, or null when it never accepted any. */
  acceptedVersion: number | null;
  /** The version in force. */
  currentVersion: number;
  /** When the version in force was published; the grace period runs from here. */
  currentVersionCreatedAt: Date;
  graceDays: number;
}

/**
 * The terms version a commission earned now is made under. A partner who accepted the version in
 * force earns under it; one who accepted an older version keeps earning under that version until
 * the grace period after the new version ends; after that (or without any acceptance) there is no
 * version to earn under: null, and the enrollment is paused until the partner accepts.
 * A program without terms (version 0) has nothing to accept.
 */
export function effectiveTermsVersion(standing: TermsStanding, now: Date): number | null {
  if (standing.currentVersion === 0) return 0;
  const accepted = standing.acceptedVersion;
  if (accepted === null) return null;
  if (accepted >= standing.currentVersion) return standing.currentVersion;
  return now.getTime() < termsGraceEndsAt(standing).getTime() ? accepted : null;
}

export function termsGraceEndsAt(standing: Pick<TermsStanding, 'currentVersionCreatedAt' | 'graceDays'>): Date {
  return new Date(standing.currentVersionCreatedAt.getTime() + standing.graceDays * 86_400_000);
}
