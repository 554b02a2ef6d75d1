import type pg from 'pg';
import { effectiveTermsVersion } from '@tandem/core';

/**
 * The terms version a commission earned now by this partner in this program is made under (for
 * `commissions.terms_version`): the accepted version, the previous one during a grace period, or
 * null when the partner has no enrollment or its grace period is over.
 */
export async function termsVersionForCommission(db: pg.PoolClient | pg.Pool, key: { workspaceId: string; programId: string; partnerId: string }, now: Date): Promise<number | null> {
  const { rows } = await db.query<{ accepted_terms_version: number | null; terms_version: number; terms_grace_days: number; version_created_at: Date | null }>(
    `select e.accepted_terms_version, p.terms_version, p.terms_grace_days, t.created_at as version_created_at
       from enrollments e
       join programs p on p.workspace_id = e.workspace_id and p.id = e.program_id
       left join program_terms_versions t on t.workspace_id = p.workspace_id and t.program_id = p.id and t.version = p.terms_version
      where e.workspace_id = $1 and e.program_id = $2 and e.partner_id = $3`,
    [key.workspaceId, key.programId, key.partnerId],
  );
  const row = rows[0];
  if (!row) return null;
  return effectiveTermsVersion(
    { acceptedVersion: row.accepted_terms_version, currentVersion: row.terms_version, currentVersionCreatedAt: row.version_created_at ?? now, graceDays: row.terms_grace_days },
    now,
  );
}
