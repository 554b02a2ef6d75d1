import type pg from 'pg';
import { ApiError, type PortalEnrollment } from '@tandem/contracts';
import { effectiveTermsVersion, newId, termsGraceEndsAt, type EnrollmentStatus } from '@tandem/core';
import { isUniqueViolation, withTransaction } from '../../db/tx.js';
import type { Services } from '../../http/context.js';
import { hashPassword } from '../../security/crypto.js';
import { createSession } from '../accounts/accounts.js';
import { sendEmailVerification, verifyEmail, type EmailStatus } from '../accounts/email-verification.js';
import { recordAudit } from '../audit/record.js';
import { linksOf } from '../onboarding/welcome-kit.js';
import { partnerActor, transitionEnrollment } from '../partners/enrollments.js';
import { TERMS_NOT_ACCEPTED } from '../partners/terms-grace.js';
import { getProgramRow } from '../programs/programs.js';

type Db = pg.PoolClient | pg.Pool;

/**
 * A partner account: a user without a workspace. Brands' partner rows under its email join it only
 * once it has confirmed the address through the link mailed here (see linkPartnerRows).
 */
export async function portalSignup(services: Services, input: { email: string; password: string; name: string }, baseUrl: string) {
  const passwordHash = await hashPassword(input.password);
  try {
    return await withTransaction(services.pool, async (client) => {
      const userId = newId('usr');
      await client.query('insert into users (id, email, name, password_hash) values ($1, $2, $3, $4)', [userId, input.email, input.name, passwordHash]);
      await sendEmailVerification(services, client, { id: userId, email: input.email }, baseUrl);
      const session = await createSession(client, userId, null, services.now());
      return { user: { id: userId, email: input.email, name: input.name }, session };
    });
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) throw new ApiError('conflict', 'An account with this email already exists', [{ path: 'email', message: 'is already registered' }]);
    throw error;
  }
}

/**
 * A partner's identity is its email: every brand's partner row with the user's email is linked to
 * the user once the user has verified that email (rows added later are linked on the next call).
 * Anyone can sign up with any address, so an unverified user links nothing.
 */
export async function linkPartnerRows(db: Db, userId: string): Promise<void> {
  await db.query('update partners set user_id = $1 where user_id is null and email = (select email from users where id = $1 and email_verified_at is not null)', [userId]);
}

/** Redeems the mailed token and, in the same transaction, links the brands' partner rows under the address. */
export async function verifyPortalEmail(services: Services, userId: string, token: string): Promise<EmailStatus> {
  return verifyEmail(services, userId, token, (client) => linkPartnerRows(client, userId));
}

interface PortalRow {
  workspace_id: string;
  id: string;
  status: EnrollmentStatus;
  status_reason: string | null;
  coupon_code: string | null;
  accepted_terms_version: number | null;
  accepted_terms_at: Date | null;
  partner_id: string;
  program_id: string;
  program_name: string;
  program_slug: string;
  currency: string;
  terms_version: number;
  terms_grace_days: number;
  brand_name: string;
  version_created_at: Date | null;
}

const SELECT_PORTAL = `
  select e.workspace_id, e.id, e.status, e.status_reason, e.coupon_code, e.accepted_terms_version, e.accepted_terms_at, e.partner_id,
         p.id as program_id, p.name as program_name, p.slug as program_slug, p.currency, p.terms_version, p.terms_grace_days,
         w.name as brand_name, t.created_at as version_created_at
    from partners pt
    join enrollments e on e.workspace_id = pt.workspace_id and e.partner_id = pt.id
    join programs p on p.workspace_id = e.workspace_id and p.id = e.program_id
    join workspaces w on w.workspace_id = e.workspace_id
    left join program_terms_versions t on t.workspace_id = p.workspace_id and t.program_id = p.id and t.version = p.terms_version
   where pt.user_id = $1`;

async function toPortalEnrollment(db: Db, row: PortalRow, baseUrl: string, now: Date): Promise<PortalEnrollment> {
  const standing = {
    acceptedVersion: row.accepted_terms_version,
    currentVersion: row.terms_version,
    currentVersionCreatedAt: row.version_created_at ?? now,
    graceDays: row.terms_grace_days,
  };
  const needsAcceptance = row.terms_version > 0 && (row.accepted_terms_version ?? 0) < row.terms_version;
  return {
    id: row.id,
    program: { id: row.program_id, name: row.program_name, slug: row.program_slug, currency: row.currency },
    brand: { workspaceId: row.workspace_id, name: row.brand_name },
    status: row.status,
    statusReason: row.status_reason,
    couponCode: row.coupon_code,
    links: await linksOf(db, row.workspace_id, row.program_id, row.partner_id, baseUrl),
    terms: {
      currentVersion: row.terms_version,
      acceptedVersion: row.accepted_terms_version,
      acceptedAt: row.accepted_terms_at?.toISOString() ?? null,
      needsAcceptance,
      // A partner who never accepted has no grace: it earns under nothing until it accepts.
      graceEndsAt: needsAcceptance && row.accepted_terms_version !== null ? termsGraceEndsAt(standing).toISOString() : null,
      earningUnderVersion: effectiveTermsVersion(standing, now),
    },
  };
}

export async function listPortalEnrollments(db: Db, userId: string, baseUrl: string, now: Date): Promise<PortalEnrollment[]> {
  await linkPartnerRows(db, userId);
  const { rows } = await db.query<PortalRow>(`${SELECT_PORTAL} order by e.id desc`, [userId]);
  return Promise.all(rows.map((r) => toPortalEnrollment(db, r, baseUrl, now)));
}

/** One of the user's own enrollments; anyone else's is simply not found. */
export async function getPortalRow(db: Db, userId: string, enrollmentId: string): Promise<PortalRow> {
  await linkPartnerRows(db, userId);
  const { rows } = await db.query<PortalRow>(`${SELECT_PORTAL} and e.id = $2`, [userId, enrollmentId]);
  if (!rows[0]) throw new ApiError('not_found', 'Enrollment not found');
  return rows[0];
}

export async function getPortalEnrollment(db: Db, userId: string, enrollmentId: string, baseUrl: string, now: Date): Promise<PortalEnrollment> {
  return toPortalEnrollment(db, await getPortalRow(db, userId, enrollmentId), baseUrl, now);
}

/**
 * The partner accepts the terms version in force (time and keyed IP hash recorded). An enrollment
 * that was suspended because its grace period ran out is reinstated.
 */
export async function acceptTerms(services: Services, userId: string, enrollmentId: string, ipHash: string): Promise<void> {
  await withTransaction(services.pool, async (client) => {
    const row = await getPortalRow(client, userId, enrollmentId);
    if (row.terms_version === 0) throw new ApiError('unprocessable', 'This program has no terms to accept', [{ path: 'id', message: 'the program has no terms' }]);
    if (row.status === 'banned' || row.status === 'rejected') throw new ApiError('unprocessable', `A ${row.status} enrollment cannot accept terms`, [{ path: 'id', message: `the enrollment is ${row.status}` }]);
    const now = services.now();
    await client.query('update enrollments set accepted_terms_version = $3, accepted_terms_at = $4, accepted_terms_ip_hash = $5, updated_at = $4 where workspace_id = $1 and id = $2', [row.workspace_id, row.id, row.terms_version, now, ipHash]);
    const actor = partnerActor(row.partner_id);
    await recordAudit(client, { workspaceId: row.workspace_id, actor: actor.audit, action: 'enrollment.terms_accepted', target: { type: 'enrollment', id: row.id }, before: { version: row.accepted_terms_version }, after: { version: row.terms_version } });
    if (row.status === 'suspended' && row.status_reason === TERMS_NOT_ACCEPTED) {
      const program = await getProgramRow(client, row.workspace_id, row.program_id);
      await transitionEnrollment(client, { workspaceId: row.workspace_id, enrollmentId: row.id, to: 'approved', reason: 'terms accepted', actor, program, now });
    }
  });
}
