import { endpoints } from '@tandem/contracts';
import { recordPartnerRequestIp } from '../fraud/identities.js';
import { ApiError } from '@tandem/contracts';
import { setSessionCookies } from '../../http/auth.js';
import type { Router } from '../../http/router.js';
import { keyedHash } from '../../security/crypto.js';
import { SESSION_TTL_SECONDS } from '../accounts/accounts.js';
import { buildWelcomeKit, milestoneCalendar } from '../onboarding/welcome-kit.js';
import { publicBaseUrl } from '../partners/enrollments.js';
import { pageOf } from '../../http/pagination.js';
import { csvLine } from '../exports/csv.js';
import { decodeCommissionCursor, encodeCommissionCursor, portalBalance, portalCommissions, portalEarnings, portalStatement, verifyPortalStatement } from './earnings.js';
import { emailStatusOf, resendEmailVerification } from '../accounts/email-verification.js';
import { mailLinkBase } from '../mail/mail.js';
import { acceptTerms, getPortalEnrollment, getPortalRow, listPortalEnrollments, portalSignup, verifyPortalEmail } from './portal.js';

const calendarFileName = (slug: string) => `${slug}-milestones.ics`;

export function portalRoutes(r: Router): void {
  r.handle(endpoints.portalSignup, async ({ body, req, reply, services }) => {
    const limit = services.limits.authPerIp.take(req.ip, services.now().getTime());
    if (!limit.allowed) throw new ApiError('rate_limited', `Too many attempts from this address; retry in ${limit.retryAfterSeconds}s`);
    const result = await portalSignup(services, body, mailLinkBase(services));
    setSessionCookies(reply, req, services, result.session.token, result.session.csrfToken, SESSION_TTL_SECONDS);
    return { user: result.user, csrfToken: result.session.csrfToken };
  });

  r.handle(endpoints.getPortalEmailStatus, async ({ auth, services }) => emailStatusOf(services.pool, auth.userId));

  r.handle(endpoints.verifyPortalEmail, async ({ body, auth, services }) => verifyPortalEmail(services, auth.userId, body.token));

  r.handle(endpoints.resendPortalEmailVerification, async ({ auth, services }) => resendEmailVerification(services, auth.userId, mailLinkBase(services)));

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

  r.handle(endpoints.getPortalBalance, async ({ params, auth, services }) => portalBalance(services.pool, auth.userId, params.id));

  r.handle(endpoints.listPortalCommissions, async ({ params, query, auth, services }) => {
    const rows = await portalCommissions(services.pool, auth.userId, params.id, decodeCommissionCursor(query.cursor), query.limit);
    const page = pageOf(rows, query.limit, (c) => c.id);
    const last = page.data[page.data.length - 1];
    return { data: page.data, nextCursor: page.nextCursor && last ? encodeCommissionCursor({ occurredAt: last.occurredAt, id: last.id }) : null };
  });

  r.handle(endpoints.getPortalEarnings, async ({ params, query, auth, services }) => portalEarnings(services.pool, auth.userId, params.id, query.interval, services.now()));

  r.handle(endpoints.getPortalStatement, async ({ params, auth, services }) => {
    const s = await portalStatement(services.pool, auth.userId, params.id);
    return { program: s.program, lines: s.lines, head: s.head };
  });

  r.handle(endpoints.getPortalStatementCsv, async ({ params, auth, services, reply }) => {
    const s = await portalStatement(services.pool, auth.userId, params.id);
    // Same columns as the brand's statement.csv, so both sides can diff their copies line by line.
    let body = csvLine(['seq', 'at', 'entry', 'reference', 'pending_change', 'payable_change', 'paid_change', 'pending', 'payable', 'paid', 'currency', 'hash']);
    for (const l of s.lines) body += csvLine([l.seq, l.at, l.kind, l.ref, l.delta.pending, l.delta.payable, l.delta.paid, l.balance.pending, l.balance.payable, l.balance.paid, s.program.currency, l.hash]);
    body += csvLine(['chain_head', s.head?.chain ?? null, s.head?.seq ?? 0, s.head?.hash ?? null]);
    reply.code(200).type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="statement-${s.program.id.replace(/[^A-Za-z0-9_]/g, '_')}.csv"`).header('cache-control', 'no-store');
    return reply.send(body);
  });

  r.handle(endpoints.verifyPortalStatement, async ({ params, body, auth, services }) => verifyPortalStatement(services.pool, auth.userId, params.id, body.hash));

  r.handle(endpoints.getWelcomeKit, async ({ params, auth, services, req }) => buildWelcomeKit(services.pool, auth.workspaceId, params.id, publicBaseUrl(services, req), services.now()));

  r.handle(endpoints.getEnrollmentCalendar, async ({ params, auth, services, req, reply }) => {
    const kit = await buildWelcomeKit(services.pool, auth.workspaceId, params.id, publicBaseUrl(services, req), services.now());
    return reply.type('text/calendar; charset=utf-8').send(milestoneCalendar(kit, services.now()));
  });
}
