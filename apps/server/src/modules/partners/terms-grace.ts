import { effectiveTermsVersion } from '@tandem/core';
import { withTransaction } from '../../db/tx.js';
import type { Services } from '../../http/context.js';
import { getProgramRow } from '../programs/programs.js';
import { SYSTEM_ACTOR, transitionEnrollment } from './enrollments.js';

export const TERMS_GRACE_QUEUE = 'partners.terms-grace';
export const TERMS_NOT_ACCEPTED = 'terms_not_accepted';

/**
 * Suspends approved enrollments whose grace period for a new terms version has ended without
 * acceptance (reason `terms_not_accepted`, recorded as a transition). Accepting the terms in the
 * portal reinstates them. Returns how many were suspended.
 */
export async function suspendEnrollmentsPastTermsGrace(services: Services): Promise<number> {
  const now = services.now();
  const { rows } = await services.pool.query<{ workspace_id: string; id: string; program_id: string; accepted_terms_version: number | null; terms_version: number; terms_grace_days: number; version_created_at: Date }>(
    `select e.workspace_id, e.id, e.program_id, e.accepted_terms_version, p.terms_version, p.terms_grace_days, t.created_at as version_created_at
       from enrollments e
       join programs p on p.workspace_id = e.workspace_id and p.id = e.program_id
       join program_terms_versions t on t.workspace_id = p.workspace_id and t.program_id = p.id and t.version = p.terms_version
      where e.status = 'approved' and p.terms_version > 0 and (e.accepted_terms_version is null or e.accepted_terms_version < p.terms_version)`,
  );
  const due = rows.filter(
    (r) => effectiveTermsVersion({ acceptedVersion: r.accepted_terms_version, currentVersion: r.terms_version, currentVersionCreatedAt: r.version_created_at, graceDays: r.terms_grace_days }, now) === null,
  );
  for (const r of due) {
    await withTransaction(services.pool, async (client) => {
      const program = await getProgramRow(client, r.workspace_id, r.program_id);
      const current = await client.query<{ status: string }>('select status from enrollments where workspace_id = $1 and id = $2 for update', [r.workspace_id, r.id]);
      if (current.rows[0]?.status !== 'approved') return;
      await transitionEnrollment(client, { workspaceId: r.workspace_id, enrollmentId: r.id, to: 'suspended', reason: TERMS_NOT_ACCEPTED, actor: SYSTEM_ACTOR, program, now });
    });
  }
  return due.length;
}

/** Checks hourly: a grace period is measured in days, so an hour late is on time. */
export function registerTermsGraceJob(services: Services): void {
  services.queue.register(TERMS_GRACE_QUEUE, async () => {
    const suspended = await suspendEnrollmentsPastTermsGrace(services);
    if (suspended > 0) services.log.info({ suspended }, 'enrollments paused: new terms not accepted within the grace period');
  });
  void services.queue.schedule(TERMS_GRACE_QUEUE, TERMS_GRACE_QUEUE, 3600).catch((error: unknown) => services.log.error({ err: error }, 'schedule failed'));
}
