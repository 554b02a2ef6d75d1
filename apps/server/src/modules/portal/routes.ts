import { endpoints } from '@tandem/contracts';
import { recordPartnerRequestIp } from '../fraud/identities.js';
import { ApiError } from '@tandem/contracts';
import { setSessionCookies } from '../../http/auth.js';
import type { Router } from '../../http/router.js';
import { keyedHash } from '../../security/crypto.js';
import { SESSION_TTL_SECONDS } from '../accounts/accounts.js';
import { buildWelcomeKit, milestoneCalendar } from '../onboarding/welcome-kit.js';
import { publicBaseUrl } from '../partners/enrollments.js';
import { acceptTerms, getPortalEnrollment, getPortalRow, listPortalEnrollments, portalSignup } from './portal.js';

const calendarFileName = (slug: string) => `${slug}-milestones.ics`;

export function portalRoutes(r: Router): void {
  r.handle(endpoints.portalSignup, async ({ body, req, reply, services }) => {
    const limit = services.limits.authPerIp.take(req.ip, services.now().getTime());
    if (!limit.allowed) throw new ApiError('rate_limited', `Too many attempts from this address; retry in ${limit.retryAfterSeconds}s`);
    const result = await portalSignup(services, body);
    setSessionCookies(reply, req, services, result.session.token, result.session.csrfToken, SESSION_TTL_SECONDS);
    return { user: result.user, csrfToken: result.session.csrfToken };
  });

  r.handle(endpoints.listPortalEnrollments, async ({ auth, services, req }) => {
    const data = await listPortalEnrollments(services.pool, auth.userId, publicBaseUrl(services, req), services.now());
    // The portal's home call: remember the address the partner works from, so a "customer" clicking
    // its own link from the same address is caught as a self-referral (hashed like click IPs).
    const { rows } = await services.pool.query<{ workspace_id: string; id: string }>('select workspace_id, id from partners where user_id = $1', [auth.userId]);
    for (const row of rows) await recordPartnerRequestIp(services.pool, services.secret, { workspaceId: row.workspace_id, partnerId: row.id, ip: req.ip, at: services.now() });
    return { data };
  });

  r.handle(endpoints.acceptPortalTerms, async ({ params, auth, services, req }) => {
    await acceptTerms(services, auth.userId, params.id, keyedHash(services.secret, req.ip));
    return getPortalEnrollment(services.pool, auth.userId, params.id, publicBaseUrl(services, req), services.now());
  });

  r.handle(endpoints.getPortalWelcomeKit, async ({ params, auth, services, req }) => {
    const row = await getPortalRow(services.pool, auth.userId, params.id);
    return buildWelcomeKit(services.pool, row.workspace_id, row.id, publicBaseUrl(services, req), services.now());
  });

  r.handle(endpoints.getPortalMilestones, async ({ params, auth, services, req }) => {
    const row = await getPortalRow(services.pool, auth.userId, params.id);
    return { data: (await buildWelcomeKit(services.pool, row.workspace_id, row.id, publicBaseUrl(services, req), services.now())).milestones };
  });

  r.handle(endpoints.getPortalCalendar, async ({ params, auth, services, req, reply }) => {
    const row = await getPortalRow(services.pool, auth.userId, params.id);
    const kit = await buildWelcomeKit(services.pool, row.workspace_id, row.id, publicBaseUrl(services, req), services.now());
    reply.header('content-disposition', `attachment; filename="${calendarFileName(row.program_slug)}"`);
    return reply.type('text/calendar; charset=utf-8').send(milestoneCalendar(kit, services.now()));
  });

  r.handle(endpoints.getWelcomeKit, async ({ params, auth, services, req }) => buildWelcomeKit(services.pool, auth.workspaceId, params.id, publicBaseUrl(services, req), services.now()));

  r.handle(endpoints.getEnrollmentCalendar, async ({ params, auth, services, req, reply }) => {
    const kit = await buildWelcomeKit(services.pool, auth.workspaceId, params.id, publicBaseUrl(services, req), services.now());
    return reply.type('text/calendar; charset=utf-8').send(milestoneCalendar(kit, services.now()));
  });
}
