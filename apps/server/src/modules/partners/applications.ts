import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, type Application } from '@tandem/contracts';
import { councilOutcome, newId, reapplicationOpensAt, unmetCriteria, type ProgramStatus } from '@tandem/core';
import { isUniqueViolation } from '../../db/tx.js';
import { recordAudit } from '../audit/record.js';
import { getProgramRow, getProgramRowBySlug, type ProgramRow } from '../programs/programs.js';
import { insertEnrollment, partnerActor, SYSTEM_ACTOR, transitionEnrollment, upsertPartner, type EnrollmentActor } from './enrollments.js';

type Db = pg.PoolClient | pg.Pool;

const DEFAULT_COOLDOWN_DAYS = 30;

/*
 * Lock order. An application is locked after its enrollment, never before: every change to a
 * pending application (a vote, a council's decision, closing it when the enrollment is decided
 * elsewhere) runs under its enrollment's row lock. The paths that start from the enrollment
 * (transitionEnrollment, a partnership's approval, the status endpoint, an erasure) lock it first
 * and then close its application; the vote, the re-tally and the program's closing start from the
 * application, so they look it up unlocked and then lock the enrollment and the application, in
 * that order (`for update of e, a` locks each row's enrollment first). Several applications are
 * taken in application id order. Taking the application first, as these did before, deadlocked
 * with a partnership approving the same enrollment (council-concurrency.test.ts).
 */

export interface ApplicationInput {
  name: string;
  email: string;
  website?: string;
  message?: string;
  audienceSize?: number;
  category?: string;
}

interface ApplicationRow {
  workspace_id: string;
  id: string;
  program_id: string;
  partner_id: string;
  enrollment_id: string;
  status: 'applied' | 'approved' | 'rejected';
  website: string | null;
  message: string | null;
  audience_size: number | null;
  category: string | null;
  decision_reason: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  created_at: Date;
  partner_email: string;
  partner_name: string;
}

const SELECT_APPLICATION = `
  select a.*, p.email as partner_email, p.name as partner_name
    from applications a join partners p on p.workspace_id = a.workspace_id and p.id = a.partner_id`;

async function getApplicationRow(db: Db, workspaceId: string, id: string, options: { lock?: boolean } = {}): Promise<ApplicationRow> {
  const { rows } = await db.query<ApplicationRow>(`${SELECT_APPLICATION} where a.workspace_id = $1 and a.id = $2${options.lock ? ' for update of a' : ''}`, [workspaceId, id]);
  if (!rows[0]) throw new ApiError('not_found', 'Application not found');
  return rows[0];
}

/** Applications with their votes, ready for the API. */
async function withVotes(db: Db, rows: ApplicationRow[]): Promise<Application[]> {
  if (rows.length === 0) return [];
  const { rows: votes } = await db.query<{ application_id: string; reviewer_id: string; decision: 'approve' | 'reject'; comment: string | null; created_at: Date }>(
    'select application_id, reviewer_id, decision, comment, created_at from application_votes where workspace_id = $1 and application_id = any($2) order by created_at, reviewer_id',
    [rows[0]!.workspace_id, rows.map((r) => r.id)],
  );
  return rows.map((r) => ({
    id: r.id,
    programId: r.program_id,
    enrollmentId: r.enrollment_id,
    partner: { id: r.partner_id, email: r.partner_email, name: r.partner_name },
    status: r.status,
    website: r.website,
    message: r.message,
    audienceSize: r.audience_size,
    category: r.category,
    decisionReason: r.decision_reason,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at?.toISOString() ?? null,
    votes: votes
      .filter((v) => v.application_id === r.id)
      .map((v) => ({ reviewerId: v.reviewer_id, decision: v.decision, comment: v.comment, createdAt: v.created_at.toISOString() })),
    createdAt: r.created_at.toISOString(),
  }));
}

export async function getApplication(db: Db, workspaceId: string, id: string): Promise<Application> {
  return (await withVotes(db, [await getApplicationRow(db, workspaceId, id)]))[0]!;
}

export async function listApplications(db: Db, workspaceId: string, q: { programId?: string; status?: string; after?: string; limit: number }): Promise<Application[]> {
  const { rows } = await db.query<ApplicationRow>(
    `${SELECT_APPLICATION} where a.workspace_id = $1 and ($2::text is null or a.program_id = $2) and ($3::text is null or a.status = $3)
       and ($4::text is null or a.id < $4) order by a.id desc limit $5`,
    [workspaceId, q.programId ?? null, q.status ?? null, q.after ?? null, q.limit + 1],
  );
  return withVotes(db, rows);
}

async function recordApplicationDecision(client: pg.PoolClient, workspaceId: string, applicationId: string, decision: 'approved' | 'rejected', reason: string, actor: EnrollmentActor, now: Date): Promise<void> {
  await client.query(
    `update applications set status = $3, decision_reason = $4, decided_by = $5, decided_at = $6 where workspace_id = $1 and id = $2 and status = 'applied'`,
    [workspaceId, applicationId, decision, reason, actor.label, now],
  );
}

/** Records the decision on the pending application and moves the enrollment accordingly. */
async function decideApplication(
  client: pg.PoolClient,
  program: ProgramRow,
  app: Pick<ApplicationRow, 'workspace_id' | 'id' | 'enrollment_id'>,
  decision: 'approved' | 'rejected',
  reason: string,
  actor: EnrollmentActor,
  now: Date,
): Promise<void> {
  await recordApplicationDecision(client, app.workspace_id, app.id, decision, reason, actor, now);
  await transitionEnrollment(client, { workspaceId: app.workspace_id, enrollmentId: app.enrollment_id, to: decision, reason, actor, program, now });
}

/**
 * When an admin moves an applied enrollment by hand (manual mode), the pending application gets
 * the same decision. Council programs decide by votes only.
 */
export async function decidePendingApplicationByHand(client: pg.PoolClient, program: ProgramRow, enrollmentId: string, to: string, reason: string | null, actor: EnrollmentActor, now: Date): Promise<boolean> {
  const { rows } = await client.query<{ id: string }>(`select id from applications where workspace_id = $1 and enrollment_id = $2 and status = 'applied' for update`, [program.workspace_id, enrollmentId]);
  const pending = rows[0];
  if (!pending) return false;
  if (program.approval.mode === 'council' && (to === 'approved' || to === 'rejected')) {
    throw new ApiError('unprocessable', 'This program’s council decides applications by vote', [{ path: 'status', message: 'is decided by the council’s votes' }]);
  }
  await recordApplicationDecision(client, program.workspace_id, pending.id, to === 'approved' ? 'approved' : 'rejected', reason ?? `${to} by an admin`, actor, now);
  return true;
}

/**
 * A public application: finds or creates the partner, opens (or re-opens) its enrollment as
 * `applied`, records the acceptance of the terms in force, and — in `auto` mode — decides at once.
 */
export async function submitApplication(client: pg.PoolClient, slug: string, input: ApplicationInput, ipHash: string, now: Date): Promise<{ id: string; status: 'applied' | 'approved' | 'rejected' }> {
  const found = await getProgramRowBySlug(client, slug);
  const program = await getProgramRow(client, found.workspace_id, found.id, { lock: true });
  if (program.status !== 'active') throw new ApiError('unprocessable', 'This program is not accepting applications', [{ path: 'slug', message: `the program is ${program.status}` }]);
  const workspaceId = program.workspace_id;
  const partner = await upsertPartner(client, workspaceId, { email: input.email, name: input.name, website: input.website ?? null });
  const actor = partnerActor(partner.id);
  const { rows } = await client.query<{ id: string; status: string }>('select id, status from enrollments where workspace_id = $1 and program_id = $2 and partner_id = $3 for update', [workspaceId, program.id, partner.id]);
  const existing = rows[0];
  let enrollmentId: string;
  if (!existing) {
    enrollmentId = await insertEnrollment(client, { workspaceId, programId: program.id, partnerId: partner.id, status: 'applied', reason: 'applied', actor, now });
  } else {
    if (existing.status === 'applied') throw new ApiError('conflict', 'An application is already pending', [{ path: 'email', message: 'has a pending application' }]);
    if (existing.status === 'approved' || existing.status === 'suspended') throw new ApiError('conflict', 'Already a partner of this program', [{ path: 'email', message: 'is already a partner' }]);
    if (existing.status === 'banned') throw new ApiError('unprocessable', 'This partner may not apply to this program', [{ path: 'email', message: 'may not apply' }]);
    if (existing.status === 'rejected') {
      const last = await client.query<{ at: Date }>(`select max(created_at) as at from enrollment_events where workspace_id = $1 and enrollment_id = $2 and to_status = 'rejected'`, [workspaceId, existing.id]);
      const rejectedAt = last.rows[0]?.at;
      const opensAt = rejectedAt ? reapplicationOpensAt(rejectedAt, program.approval.cooldownDays ?? DEFAULT_COOLDOWN_DAYS) : now;
      if (opensAt.getTime() > now.getTime()) {
        throw new ApiError('unprocessable', `A rejected applicant may apply again from ${opensAt.toISOString()}`, [{ path: 'email', message: `may apply again from ${opensAt.toISOString()}` }]);
      }
    }
    enrollmentId = existing.id;
    await transitionEnrollment(client, { workspaceId, enrollmentId, to: 'applied', reason: existing.status === 'invited' ? 'accepted the invitation by applying' : 're-applied', actor, program, now });
  }
  // Applying on the public page, which shows the terms, is accepting them.
  if (program.terms_version > 0) {
    await client.query('update enrollments set accepted_terms_version = $3, accepted_terms_at = $4, accepted_terms_ip_hash = $5 where workspace_id = $1 and id = $2', [workspaceId, enrollmentId, program.terms_version, now, ipHash]);
  }
  const app = { workspace_id: workspaceId, id: newId('app'), enrollment_id: enrollmentId };
  await client.query(
    `insert into applications (workspace_id, id, program_id, partner_id, enrollment_id, status, website, message, audience_size, category, created_at)
     values ($1, $2, $3, $4, $5, 'applied', $6, $7, $8, $9, $10)`,
    [workspaceId, app.id, program.id, partner.id, enrollmentId, input.website ?? null, input.message ?? null, input.audienceSize ?? null, input.category ?? null, now],
  );
  if (program.approval.mode !== 'auto') return { id: app.id, status: 'applied' };
  const unmet = unmetCriteria(program.approval.criteria ?? {}, input);
  const decision = unmet.length === 0 ? 'approved' : 'rejected';
  const reason = unmet.length === 0 ? 'auto: every criterion met' : `auto: ${unmet.map((u) => `${u.path} ${u.message}`).join('; ')}`;
  await decideApplication(client, program, app, decision, reason, SYSTEM_ACTOR, now);
  return { id: app.id, status: decision };
}

/**
 * A council reviewer's vote. Non-reviewers get 403, a second vote 409. After each vote the tally
 * decides: quorum approvals approve; once quorum is impossible the application is rejected.
 */
export async function voteOnApplication(
  client: pg.PoolClient,
  input: { workspaceId: string; applicationId: string; reviewerId: string; decision: 'approve' | 'reject'; comment: string | null; actor: EnrollmentActor; now: Date },
): Promise<Application> {
  const found = await getApplicationRow(client, input.workspaceId, input.applicationId);
  // The enrollment first, then the application (see 'Lock order' above); the program is read after
  // them, so a council PATCH or a closing that reached this application before the vote is seen.
  const enrollment = await client.query<{ status: string }>('select status from enrollments where workspace_id = $1 and id = $2 for update', [input.workspaceId, found.enrollment_id]);
  const app = await getApplicationRow(client, input.workspaceId, input.applicationId, { lock: true });
  const program = await getProgramRow(client, input.workspaceId, app.program_id);
  if (program.approval.mode !== 'council') throw new ApiError('unprocessable', 'This program does not decide by council vote', [{ path: 'decision', message: `the program's approval mode is ${program.approval.mode}` }]);
  const reviewers = program.approval.reviewers ?? [];
  if (!reviewers.includes(input.reviewerId)) throw new ApiError('forbidden', 'Only the program’s council reviewers may vote');
  if (app.status !== 'applied') throw new ApiError('conflict', `This application is already ${app.status}`);
  // Since transitions close the pending application, only a row from before that can get here.
  if (enrollment.rows[0]?.status !== 'applied') throw new ApiError('conflict', `This application's enrollment is already ${enrollment.rows[0]?.status ?? 'gone'}`);
  try {
    await client.query('savepoint application_vote');
    await client.query(
      'insert into application_votes (workspace_id, application_id, reviewer_id, decision, comment, created_at) values ($1, $2, $3, $4, $5, $6)',
      [input.workspaceId, app.id, input.reviewerId, input.decision, input.comment, input.now],
    );
    await client.query('release savepoint application_vote');
  } catch (error) {
    await client.query('rollback to savepoint application_vote');
    if (isUniqueViolation(error, 'application_votes_pkey')) throw new ApiError('conflict', 'You have already voted on this application');
    throw error;
  }
  await recordAudit(client, { workspaceId: input.workspaceId, actor: input.actor.audit, action: 'application.voted', target: { type: 'application', id: app.id }, after: { decision: input.decision, comment: input.comment } });
  await decideIfCouncilSettled(client, program, app, new Set(await remainingReviewers(client, input.workspaceId, reviewers)), input.now);
  return getApplication(client, input.workspaceId, app.id);
}

/** The council's reviewers who are still members of the workspace: the only ones who can vote. */
async function remainingReviewers(db: Db, workspaceId: string, reviewers: string[]): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>('select user_id from memberships where workspace_id = $1 and user_id = any($2)', [workspaceId, reviewers]);
  const members = new Set(rows.map((r) => r.user_id));
  return reviewers.filter((id) => members.has(id));
}

/**
 * Program statuses whose councils still decide applications: a paused program only stops new
 * applications and resumes later. A draft has no applications yet (going live checks its council)
 * and a closed program approves no one, so neither is re-tallied nor keeps a member from leaving.
 */
const DECIDING_PROGRAM_STATUSES: readonly ProgramStatus[] = ['active', 'paused'];

/**
 * Tallies the application's votes and decides it once they settle it. The council counted here is
 * the configured reviewers who are still members plus those who left after voting on it: a cast
 * vote stays cast (dropping it could flip the outcome), while a reviewer who left without voting
 * never will, so quorum is capped at the size of that council rather than waiting for ever. With
 * nobody left to count nothing is decided (removing the last reviewer is refused, see
 * assertCouncilsKeepAReviewer). A reviewer the brand took off the council has no say any more.
 */
async function decideIfCouncilSettled(client: pg.PoolClient, program: ProgramRow, app: Pick<ApplicationRow, 'workspace_id' | 'id' | 'enrollment_id'>, members: ReadonlySet<string>, now: Date): Promise<void> {
  const configured = program.approval.reviewers ?? [];
  const { rows: votes } = await client.query<{ reviewer_id: string; decision: 'approve' | 'reject' }>(
    'select reviewer_id, decision from application_votes where workspace_id = $1 and application_id = $2 and reviewer_id = any($3)',
    [app.workspace_id, app.id, configured],
  );
  const voted = new Set(votes.map((v) => v.reviewer_id));
  const council = configured.filter((id) => members.has(id) || voted.has(id));
  if (council.length === 0) return;
  const approvals = votes.filter((v) => v.decision === 'approve').length;
  const tally = { quorum: Math.min(program.approval.quorum ?? 1, council.length), reviewerCount: council.length, approvals, rejections: votes.length - approvals };
  const outcome = councilOutcome(tally);
  if (outcome === 'pending') return;
  const reason = outcome === 'approved' ? `council: quorum reached (${tally.approvals} of ${tally.quorum} approvals)` : `council: quorum impossible (${tally.rejections} rejections of ${tally.reviewerCount} reviewers, quorum ${tally.quorum})`;
  await decideApplication(client, program, app, outcome, reason, SYSTEM_ACTOR, now);
}

/**
 * Decides the open applications of a council program that its current council has already settled.
 * Votes only trigger a tally when cast, so after the council changes (a reviewer removed from it or
 * from the workspace, a lower quorum) an application whose remaining reviewers have all voted would
 * otherwise wait for a vote that can no longer come.
 *
 * The re-tally runs inside the caller's change (a PATCH, a member's removal), which must not fail
 * because of it: an application whose enrollment has moved on is left alone (since transitions close
 * the pending application, only a row from before that can be in that state), and a decision that cannot be carried out is rolled back to its savepoint, logged
 * and left pending for the next vote or change.
 */
export async function retallyOpenApplications(client: pg.PoolClient, workspaceId: string, programId: string, now: Date, log: Pick<FastifyBaseLogger, 'warn'>): Promise<void> {
  const program = await getProgramRow(client, workspaceId, programId);
  if (program.approval.mode !== 'council' || !DECIDING_PROGRAM_STATUSES.includes(program.status)) return;
  const members = new Set(await remainingReviewers(client, workspaceId, program.approval.reviewers ?? []));
  const { rows } = await client.query<{ workspace_id: string; id: string; enrollment_id: string }>(
    `select a.workspace_id, a.id, a.enrollment_id from applications a
       join enrollments e on e.workspace_id = a.workspace_id and e.id = a.enrollment_id
      where a.workspace_id = $1 and a.program_id = $2 and a.status = 'applied' and e.status = 'applied'
      order by a.id for update of e, a`,
    [workspaceId, programId],
  );
  for (const app of rows) {
    await client.query('savepoint council_retally');
    try {
      await decideIfCouncilSettled(client, program, app, members, now);
      await client.query('release savepoint council_retally');
    } catch (error) {
      await client.query('rollback to savepoint council_retally');
      log.warn({ err: error, workspaceId, programId, applicationId: app.id }, 'council re-tally could not decide an application; it stays pending');
    }
  }
}

/** Why the pending applications of a program that closes are rejected. */
export const PROGRAM_CLOSED_REASON = 'program closed';

/**
 * A program that closes approves no one (closed is final), so its pending applications, whatever
 * the approval mode, are decided there and then: rejected with the reason `program closed` by the
 * actor who closed it, votes kept, and their enrollments rejected the same way (an enrollment_events
 * row and an audit entry each). Runs in the closing PATCH's transaction.
 */
export async function closeApplicationsOfClosedProgram(client: pg.PoolClient, program: ProgramRow, actor: EnrollmentActor, now: Date): Promise<void> {
  const { rows } = await client.query<{ workspace_id: string; id: string; enrollment_id: string }>(
    `select a.workspace_id, a.id, a.enrollment_id from applications a
       join enrollments e on e.workspace_id = a.workspace_id and e.id = a.enrollment_id
      where a.workspace_id = $1 and a.program_id = $2 and a.status = 'applied' and e.status = 'applied'
      order by a.id for update of e, a`,
    [program.workspace_id, program.id],
  );
  for (const app of rows) await decideApplication(client, program, app, 'rejected', PROGRAM_CLOSED_REASON, actor, now);
}

/** Deciding council programs of the workspace that name the user as a reviewer. */
async function councilsOf(client: pg.PoolClient, workspaceId: string, userId: string): Promise<{ id: string; name: string; reviewers: string[] }[]> {
  const { rows } = await client.query<{ id: string; name: string; reviewers: string[] }>(
    `select id, name, approval->'reviewers' as reviewers from programs
      where workspace_id = $1 and approval->>'mode' = 'council' and approval->'reviewers' ? $2 and status = any($3) order by id`,
    [workspaceId, userId, DECIDING_PROGRAM_STATUSES],
  );
  return rows;
}

/**
 * Called before a member leaves the workspace. A council left without any reviewer can never reach
 * quorum, so the member's removal is refused until each such council names someone else.
 *
 * The removal has already locked every membership row of the workspace, and checkReviewers reads
 * the reviewers it accepts `for share`: a concurrent PATCH (or creation) naming this member either
 * finished before the lock, so the read below sees its council, or waits for the removal and then
 * finds the member gone. Locking the programs here as well would deadlock with a PATCH that holds
 * its program row while it waits for a membership.
 */
export async function assertCouncilsKeepAReviewer(client: pg.PoolClient, workspaceId: string, userId: string): Promise<void> {
  const stranded: { id: string; name: string }[] = [];
  for (const council of await councilsOf(client, workspaceId, userId)) {
    const others = council.reviewers.filter((id) => id !== userId);
    if ((await remainingReviewers(client, workspaceId, others)).length === 0) stranded.push(council);
  }
  if (stranded.length === 0) return;
  const programs = stranded.map((p) => `'${p.name}' (${p.id})`).join(', ');
  throw new ApiError('conflict', `This member is the last remaining council reviewer of ${programs}: name another reviewer or change the approval mode first, or no application there could ever reach quorum`);
}

/** After a member left: decides what the councils they sat on have now settled without them. */
export async function retallyCouncilsOf(client: pg.PoolClient, workspaceId: string, userId: string, now: Date, log: Pick<FastifyBaseLogger, 'warn'>): Promise<void> {
  for (const council of await councilsOf(client, workspaceId, userId)) await retallyOpenApplications(client, workspaceId, council.id, now, log);
}
