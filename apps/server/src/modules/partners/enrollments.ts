import type pg from 'pg';
import type { FastifyRequest } from 'fastify';
import { ApiError, type Enrollment, type EnrollmentStatus } from '@tandem/contracts';
import { canChangeEnrollmentStatus, couponCodeFor, newId } from '@tandem/core';
import { isUniqueViolation } from '../../db/tx.js';
import type { Auth, Services } from '../../http/context.js';
import { actorOf, recordAudit, type AuditActor } from '../audit/record.js';
import { emitEvent } from '../events/emit.js';
import { createLink, shortUrl } from '../links/create-link.js';
import type { ProgramRow } from '../programs/programs.js';

type Db = pg.PoolClient | pg.Pool;

/** Who changed an enrollment: for the audit log and, as a label, for `enrollment_events.actor`. */
export interface EnrollmentActor {
  audit: AuditActor;
  label: string;
}

export const SYSTEM_ACTOR: EnrollmentActor = { audit: { kind: 'system', id: null }, label: 'system' };
export const partnerActor = (partnerId: string): EnrollmentActor => ({ audit: { kind: 'partner', id: partnerId }, label: `partner:${partnerId}` });
export function requestActor(auth: Auth): EnrollmentActor {
  const audit = actorOf(auth);
  return { audit, label: audit.id ?? 'system' };
}

export interface EnrollmentRow {
  workspace_id: string;
  id: string;
  program_id: string;
  partner_id: string;
  status: EnrollmentStatus;
  status_reason: string | null;
  tags: string[];
  coupon_code: string | null;
  accepted_terms_version: number | null;
  accepted_terms_at: Date | null;
  approved_at: Date | null;
  created_at: Date;
  updated_at: Date;
  partner_email: string;
  partner_name: string;
  partner_workspace_id: string | null;
  link_id: string | null;
  link_key: string | null;
}

/** An enrollment with its partner and default link joined in. */
export const SELECT_ENROLLMENT = `
  select e.workspace_id, e.id, e.program_id, e.partner_id, e.status, e.status_reason, e.tags, e.coupon_code,
         e.accepted_terms_version, e.accepted_terms_at, e.approved_at, e.created_at, e.updated_at,
         p.email as partner_email, p.name as partner_name, p.partner_workspace_id, l.id as link_id, l.key as link_key
    from enrollments e
    join partners p on p.workspace_id = e.workspace_id and p.id = e.partner_id
    left join lateral (
      select id, key from links
       where workspace_id = e.workspace_id and program_id = e.program_id and partner_id = e.partner_id and is_default and archived_at is null
       order by id limit 1
    ) l on true`;

/** Where short links point: the configured public URL, else the origin the request came to. */
export function publicBaseUrl(services: Services, req: FastifyRequest): string {
  return services.config.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

export function toEnrollment(row: EnrollmentRow, baseUrl: string): Enrollment {
  return {
    id: row.id,
    programId: row.program_id,
    partner: { id: row.partner_id, email: row.partner_email, name: row.partner_name, isBrand: row.partner_workspace_id !== null },
    status: row.status,
    statusReason: row.status_reason,
    tags: row.tags,
    couponCode: row.coupon_code,
    acceptedTermsVersion: row.accepted_terms_version,
    acceptedTermsAt: row.accepted_terms_at?.toISOString() ?? null,
    approvedAt: row.approved_at?.toISOString() ?? null,
    link: row.link_id && row.link_key ? { id: row.link_id, key: row.link_key, shortUrl: shortUrl(baseUrl, row.link_key) } : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function getEnrollmentRow(db: Db, workspaceId: string, enrollmentId: string, options: { lock?: boolean } = {}): Promise<EnrollmentRow> {
  const { rows } = await db.query<EnrollmentRow>(`${SELECT_ENROLLMENT} where e.workspace_id = $1 and e.id = $2${options.lock ? ' for update of e' : ''}`, [workspaceId, enrollmentId]);
  if (!rows[0]) throw new ApiError('not_found', 'Enrollment not found');
  return rows[0];
}

/**
 * Finds the partner by email in the workspace or creates it; the email is the partner's global
 * identity. A new row is linked to the portal user with that email only once the user has proved
 * the address (unverified, it is linked by `linkPartnerRows` when the user verifies): whoever signs
 * up first with someone's address must not receive every row a brand adds for them later.
 */
export async function upsertPartner(client: pg.PoolClient, workspaceId: string, input: { email: string; name: string; website?: string | null; partnerWorkspaceId?: string | null }): Promise<{ id: string; created: boolean }> {
  const { rows } = await client.query<{ id: string; created: boolean }>(
    `insert into partners (workspace_id, id, email, name, website, partner_workspace_id, user_id)
     values ($1, $2, $3, $4, $5, $6, (select id from users where email = $3 and email_verified_at is not null))
     on conflict (workspace_id, email) do update
       set website = coalesce(partners.website, excluded.website),
           partner_workspace_id = coalesce(partners.partner_workspace_id, excluded.partner_workspace_id)
     returning id, (xmax = 0) as created`,
    [workspaceId, newId('ptn'), input.email, input.name, input.website ?? null, input.partnerWorkspaceId ?? null],
  );
  return rows[0]!;
}

/** Inserts an enrollment in its first status and records that first transition. */
export async function insertEnrollment(
  client: pg.PoolClient,
  input: { workspaceId: string; programId: string; partnerId: string; status: EnrollmentStatus; tags?: string[]; reason?: string | null; actor: EnrollmentActor; now: Date },
): Promise<string> {
  const id = newId('enr');
  try {
    await client.query('savepoint insert_enrollment');
    await client.query(
      'insert into enrollments (workspace_id, id, program_id, partner_id, status, status_reason, tags, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $8)',
      [input.workspaceId, id, input.programId, input.partnerId, input.status, input.reason ?? null, input.tags ?? [], input.now],
    );
    await client.query('release savepoint insert_enrollment');
  } catch (error) {
    await client.query('rollback to savepoint insert_enrollment');
    if (isUniqueViolation(error, 'enrollments_program_partner_key')) throw new ApiError('conflict', 'This partner is already enrolled in the program', [{ path: 'email', message: 'is already enrolled' }]);
    throw error;
  }
  await recordEnrollmentEvent(client, { workspaceId: input.workspaceId, enrollmentId: id, from: null, to: input.status, reason: input.reason ?? null, actor: input.actor, at: input.now });
  return id;
}

async function recordEnrollmentEvent(
  client: pg.PoolClient,
  e: { workspaceId: string; enrollmentId: string; from: EnrollmentStatus | null; to: EnrollmentStatus; reason: string | null; actor: EnrollmentActor; at: Date },
): Promise<void> {
  await client.query(
    'insert into enrollment_events (workspace_id, id, enrollment_id, from_status, to_status, reason, actor, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)',
    [e.workspaceId, newId('ene'), e.enrollmentId, e.from, e.to, e.reason, e.actor.label, e.at],
  );
  await recordAudit(client, {
    workspaceId: e.workspaceId,
    actor: e.actor.audit,
    action: `enrollment.${e.to}`,
    target: { type: 'enrollment', id: e.enrollmentId },
    before: e.from === null ? undefined : { status: e.from },
    after: { status: e.to, reason: e.reason },
  });
}

/** Gives the enrollment a coupon code unique in the workspace, drawing again on a collision. */
async function ensureCouponCode(client: pg.PoolClient, workspaceId: string, enrollmentId: string, partnerName: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const code = couponCodeFor(partnerName, attempt < 5 ? 4 : 6);
    try {
      await client.query('savepoint coupon_code');
      await client.query('update enrollments set coupon_code = $3 where workspace_id = $1 and id = $2 and coupon_code is null', [workspaceId, enrollmentId, code]);
      await client.query('release savepoint coupon_code');
      return;
    } catch (error) {
      await client.query('rollback to savepoint coupon_code');
      if (!isUniqueViolation(error, 'enrollments_coupon_key')) throw error;
    }
  }
  throw new ApiError('internal', 'Could not find a free coupon code');
}

/**
 * What approval brings: a default link (created once), a coupon code (kept across suspensions) and
 * the `partner.enrolled` event. `destinationUrl` lets the brand choose the default link's landing page.
 */
async function equipApprovedEnrollment(client: pg.PoolClient, program: ProgramRow, row: EnrollmentRow, destinationUrl?: string): Promise<void> {
  if (!row.coupon_code) await ensureCouponCode(client, row.workspace_id, row.id, row.partner_name);
  if (!row.link_id) {
    await createLink(client, {
      workspaceId: row.workspace_id,
      program: { id: program.id, destinationUrl: program.destination_url, allowedDomains: program.allowed_domains },
      partnerId: row.partner_id,
      isDefault: true,
      ...(destinationUrl ? { destinationUrl } : {}),
    });
  }
}

export interface ApprovalExtras {
  /** The terms version the partner counts as having accepted (brand-vouched, or by applying). */
  acceptTerms?: { version: number; ipHash: string | null };
  /** Landing page of the default link, inside the program's domains. */
  destinationUrl?: string;
}

/**
 * Everything that follows an enrollment becoming approved, in the caller's transaction: the
 * approval time (the first one is kept), the accepted terms, a coupon code and default link, and
 * `partner.enrolled` the first time only (a reinstatement is not a new enrollment).
 */
export async function completeApproval(client: pg.PoolClient, program: ProgramRow, workspaceId: string, enrollmentId: string, now: Date, extras: ApprovalExtras = {}): Promise<EnrollmentRow> {
  const row = await getEnrollmentRow(client, workspaceId, enrollmentId);
  await client.query('update enrollments set approved_at = coalesce(approved_at, $3) where workspace_id = $1 and id = $2', [workspaceId, enrollmentId, now]);
  if (extras.acceptTerms) {
    await client.query(
      'update enrollments set accepted_terms_version = $3, accepted_terms_at = $4, accepted_terms_ip_hash = $5 where workspace_id = $1 and id = $2',
      [workspaceId, enrollmentId, extras.acceptTerms.version, now, extras.acceptTerms.ipHash],
    );
  }
  await equipApprovedEnrollment(client, program, row, extras.destinationUrl);
  if (row.approved_at === null) {
    await emitEvent(client, {
      workspaceId,
      type: 'partner.enrolled',
      data: { enrollmentId: row.id, programId: row.program_id, partnerId: row.partner_id, email: row.partner_email, name: row.partner_name },
    });
  }
  return getEnrollmentRow(client, workspaceId, enrollmentId);
}

/**
 * Closes the pending application of enrollments that left `applied` by another path than the
 * application's own decision (a reciprocal partnership approving the partner, a ban by erasure):
 * `approved` if the enrollment was approved, else `rejected`, the reason saying what decided it.
 * Left `applied`, it would wait for votes that can only fail (the enrollment cannot be approved or
 * rejected again). An application decided the ordinary way is already closed, so this does nothing.
 */
export async function closePendingApplications(
  client: pg.PoolClient,
  workspaceId: string,
  of: { enrollmentId: string } | { partnerId: string },
  to: EnrollmentStatus,
  reason: string | null,
  actorLabel: string,
  now: Date,
): Promise<void> {
  const [column, id] = 'enrollmentId' in of ? ['enrollment_id', of.enrollmentId] : ['partner_id', of.partnerId];
  await client.query(
    `update applications set status = $3, decision_reason = $4, decided_by = $5, decided_at = $6 where workspace_id = $1 and ${column} = $2 and status = 'applied'`,
    [workspaceId, id, to === 'approved' ? 'approved' : 'rejected', `enrollment ${to} outside the review${reason ? `: ${reason}` : ''}`, actorLabel, now],
  );
}

export interface TransitionInput extends ApprovalExtras {
  workspaceId: string;
  enrollmentId: string;
  to: EnrollmentStatus;
  reason: string | null;
  actor: EnrollmentActor;
  program: ProgramRow;
  now: Date;
}

/**
 * Moves an enrollment to a new status inside the caller's transaction: checks the transition,
 * records it (enrollment_events + audit) and, on approval, completes it. An invalid transition is
 * a 422 naming `status`.
 */
export async function transitionEnrollment(client: pg.PoolClient, input: TransitionInput): Promise<EnrollmentRow> {
  const row = await getEnrollmentRow(client, input.workspaceId, input.enrollmentId, { lock: true });
  if (!canChangeEnrollmentStatus(row.status, input.to)) {
    throw new ApiError('unprocessable', `A ${row.status} enrollment cannot become ${input.to}`, [{ path: 'status', message: `cannot change from ${row.status} to ${input.to}` }]);
  }
  if (input.to === 'approved' && input.program.status === 'closed') {
    throw new ApiError('unprocessable', 'A closed program approves no one', [{ path: 'status', message: 'the program is closed' }]);
  }
  await client.query('update enrollments set status = $3, status_reason = $4, updated_at = $5 where workspace_id = $1 and id = $2', [input.workspaceId, input.enrollmentId, input.to, input.reason, input.now]);
  await recordEnrollmentEvent(client, { workspaceId: input.workspaceId, enrollmentId: input.enrollmentId, from: row.status, to: input.to, reason: input.reason, actor: input.actor, at: input.now });
  if (row.status === 'applied') await closePendingApplications(client, input.workspaceId, { enrollmentId: input.enrollmentId }, input.to, input.reason, input.actor.label, input.now);
  if (input.to === 'approved') return completeApproval(client, input.program, input.workspaceId, input.enrollmentId, input.now, input);
  return getEnrollmentRow(client, input.workspaceId, input.enrollmentId);
}
