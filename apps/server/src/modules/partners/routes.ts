import { ApiError, endpoints } from '@tandem/contracts';
import { holdAllPending } from '../fraud/reviews.js';
import { withTransaction } from '../../db/tx.js';
import type { Services } from '../../http/context.js';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { keyedHash } from '../../security/crypto.js';
import { recordAudit } from '../audit/record.js';
import { shortUrl } from '../links/create-link.js';
import { getProgramRow } from '../programs/programs.js';
import { addPartnerToProgram } from './add-partner.js';
import { decidePendingApplicationByHand, getApplication, listApplications, submitApplication, voteOnApplication } from './applications.js';
import { getEnrollmentRow, publicBaseUrl, requestActor, SELECT_ENROLLMENT, toEnrollment, transitionEnrollment, type EnrollmentRow } from './enrollments.js';

async function listEnrollmentRows(services: Services, workspaceId: string, q: { programId?: string; partnerId?: string; status?: string; tag?: string; cursor?: string; limit: number }): Promise<EnrollmentRow[]> {
  const { rows } = await services.pool.query<EnrollmentRow>(
    `${SELECT_ENROLLMENT}
      where e.workspace_id = $1 and ($2::text is null or e.program_id = $2) and ($3::text is null or e.partner_id = $3)
        and ($4::text is null or e.status = $4) and ($5::text is null or $5 = any(e.tags)) and ($6::text is null or e.id < $6)
      order by e.id desc limit $7`,
    [workspaceId, q.programId ?? null, q.partnerId ?? null, q.status ?? null, q.tag ?? null, decodeCursor(q.cursor) ?? null, q.limit + 1],
  );
  return rows;
}

export function partnerRoutes(r: Router): void {
  r.handle(endpoints.addPartner, async ({ params, body, auth, services, req }) => {
    const row = await withTransaction(services.pool, async (client) => {
      const program = await getProgramRow(client, auth.workspaceId, params.id);
      return addPartnerToProgram(client, program, body, requestActor(auth), services.now());
    });
    const base = publicBaseUrl(services, req);
    return {
      partner: { id: row.partner_id, email: row.partner_email, name: row.partner_name, tags: row.tags },
      enrollment: { id: row.id, status: row.status, couponCode: row.coupon_code },
      link: row.link_id && row.link_key ? { id: row.link_id, key: row.link_key, shortUrl: shortUrl(base, row.link_key) } : null,
    };
  });

  r.handle(endpoints.listProgramPartners, async ({ params, query, auth, services, req }) => {
    await getProgramRow(services.pool, auth.workspaceId, params.id);
    const rows = await listEnrollmentRows(services, auth.workspaceId, { ...query, programId: params.id });
    const base = publicBaseUrl(services, req);
    return pageOf(rows.map((row) => toEnrollment(row, base)), query.limit, (e) => e.id);
  });

  r.handle(endpoints.listEnrollments, async ({ query, auth, services, req }) => {
    const rows = await listEnrollmentRows(services, auth.workspaceId, query);
    const base = publicBaseUrl(services, req);
    return pageOf(rows.map((row) => toEnrollment(row, base)), query.limit, (e) => e.id);
  });

  r.handle(endpoints.getEnrollment, async ({ params, auth, services, req }) =>
    toEnrollment(await getEnrollmentRow(services.pool, auth.workspaceId, params.id), publicBaseUrl(services, req)),
  );

  r.handle(endpoints.changeEnrollmentStatus, async ({ params, body, auth, services, req }) => {
    const row = await withTransaction(services.pool, async (client) => {
      const current = await getEnrollmentRow(client, auth.workspaceId, params.id, { lock: true });
      const program = await getProgramRow(client, auth.workspaceId, current.program_id);
      const actor = requestActor(auth);
      const now = services.now();
      const reason = body.reason ?? null;
      if (current.status === 'applied') await decidePendingApplicationByHand(client, program, current.id, body.status, reason, actor, now);
      // Approving someone who never accepted any terms vouches for the version in force, as adding an approved partner does.
      const vouchedTerms = body.status === 'approved' && current.accepted_terms_version === null ? { acceptTerms: { version: program.terms_version, ipHash: null } } : {};
      const changed = await transitionEnrollment(client, { workspaceId: auth.workspaceId, enrollmentId: params.id, to: body.status, reason, actor, program, now, ...vouchedTerms });
      // A ban freezes the partner's unpaid earnings in this program for review, in the same transaction.
      if (body.status === 'banned') await holdAllPending(client, services, { workspaceId: auth.workspaceId, partnerId: current.partner_id, programId: program.id, reason: reason ?? 'Partner banned' });
      return changed;
    });
    return toEnrollment(row, publicBaseUrl(services, req));
  });

  r.handle(endpoints.updateEnrollment, async ({ params, body, auth, services, req }) => {
    const row = await withTransaction(services.pool, async (client) => {
      const before = await getEnrollmentRow(client, auth.workspaceId, params.id, { lock: true });
      const tags = [...new Set(body.tags)];
      await client.query('update enrollments set tags = $3, updated_at = $4 where workspace_id = $1 and id = $2', [auth.workspaceId, params.id, tags, services.now()]);
      await recordAudit(client, { workspaceId: auth.workspaceId, actor: requestActor(auth).audit, action: 'enrollment.tags_changed', target: { type: 'enrollment', id: params.id }, before: { tags: before.tags }, after: { tags } });
      return getEnrollmentRow(client, auth.workspaceId, params.id);
    });
    return toEnrollment(row, publicBaseUrl(services, req));
  });

  r.handle(endpoints.listEnrollmentEvents, async ({ params, auth, services }) => {
    await getEnrollmentRow(services.pool, auth.workspaceId, params.id);
    const { rows } = await services.pool.query<{ id: string; from_status: never; to_status: never; reason: string | null; actor: string; created_at: Date }>(
      'select id, from_status, to_status, reason, actor, created_at from enrollment_events where workspace_id = $1 and enrollment_id = $2 order by created_at, id',
      [auth.workspaceId, params.id],
    );
    return { data: rows.map((e) => ({ id: e.id, fromStatus: e.from_status, toStatus: e.to_status, reason: e.reason, actor: e.actor, createdAt: e.created_at.toISOString() })) };
  });

  r.handle(endpoints.applyToProgram, async ({ params, body, services, req }) => {
    const limit = services.limits.authPerIp.take(req.ip, services.now().getTime());
    if (!limit.allowed) throw new ApiError('rate_limited', `Too many applications from this address; retry in ${limit.retryAfterSeconds}s`);
    return withTransaction(services.pool, (client) => submitApplication(client, params.slug, body, keyedHash(services.secret, req.ip), services.now()));
  });

  r.handle(endpoints.listApplications, async ({ query, auth, services }) => {
    const rows = await listApplications(services.pool, auth.workspaceId, { ...query, after: decodeCursor(query.cursor) });
    return pageOf(rows, query.limit, (a) => a.id);
  });

  r.handle(endpoints.getApplication, async ({ params, auth, services }) => getApplication(services.pool, auth.workspaceId, params.id));

  r.handle(endpoints.voteOnApplication, async ({ params, body, auth, services }) => {
    if (auth.kind !== 'session') {
      // Another workspace's application is not_found whoever asks; only then does the key matter.
      await getApplication(services.pool, auth.workspaceId, params.id);
      throw new ApiError('forbidden', 'A council vote is personal: sign in as the reviewer');
    }
    return withTransaction(services.pool, (client) =>
      voteOnApplication(client, { workspaceId: auth.workspaceId, applicationId: params.id, reviewerId: auth.userId, decision: body.decision, comment: body.comment ?? null, actor: requestActor(auth), now: services.now() }),
    );
  });
}
