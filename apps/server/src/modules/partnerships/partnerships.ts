import type pg from 'pg';
import { ApiError, type Partnership } from '@tandem/contracts';
import { newId } from '@tandem/core';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { addPartnerToProgram } from '../partners/add-partner.js';
import { SYSTEM_ACTOR, transitionEnrollment } from '../partners/enrollments.js';
import { getProgramRow, type ProgramRow } from '../programs/programs.js';

type Db = pg.PoolClient | pg.Pool;

export interface Invitee {
  inviteWorkspaceSlug?: string | undefined;
  inviteEmail?: string | undefined;
}

interface MemberRow {
  workspace_id: string;
  status: 'invited' | 'active' | 'declined';
  program_id: string | null;
  invited_at: Date;
  joined_at: Date | null;
  name: string;
  slug: string;
  program_name: string | null;
  program_currency: string | null;
}

/** The workspace a brand is invited by: its slug, or a workspace its owner (by email) owns. */
async function resolveInvitee(db: Db, invitee: Invitee): Promise<string> {
  if (invitee.inviteWorkspaceSlug !== undefined) {
    const { rows } = await db.query<{ workspace_id: string }>('select workspace_id from workspaces where slug = $1', [invitee.inviteWorkspaceSlug]);
    if (!rows[0]) throw new ApiError('unprocessable', 'No brand with this workspace slug', [{ path: 'inviteWorkspaceSlug', message: 'is not a workspace on this Tandem' }]);
    return rows[0].workspace_id;
  }
  const { rows } = await db.query<{ workspace_id: string }>(
    `select m.workspace_id from memberships m join users u on u.id = m.user_id where u.email = $1 and m.role = 'owner' order by m.created_at limit 1`,
    [invitee.inviteEmail],
  );
  if (!rows[0]) throw new ApiError('unprocessable', 'No brand owned by this email', [{ path: 'inviteEmail', message: 'owns no workspace on this Tandem' }]);
  return rows[0].workspace_id;
}

/** The partnership as the caller sees it; a workspace that is not a member gets 404. */
export async function locate(db: Db, workspaceId: string, partnershipId: string, options: { lock?: boolean } = {}): Promise<{ ownerWorkspaceId: string; myStatus: MemberRow['status'] }> {
  const { rows } = await db.query<{ owner_workspace_id: string; status: MemberRow['status'] }>(
    'select owner_workspace_id, status from partnership_members where workspace_id = $1 and partnership_id = $2',
    [workspaceId, partnershipId],
  );
  if (!rows[0]) throw new ApiError('not_found', 'Partnership not found');
  if (options.lock) await db.query('select 1 from partnerships where workspace_id = $1 and id = $2 for update', [rows[0].owner_workspace_id, partnershipId]);
  return { ownerWorkspaceId: rows[0].owner_workspace_id, myStatus: rows[0].status };
}

export async function loadPartnership(db: Db, workspaceId: string, partnershipId: string): Promise<Partnership> {
  const { ownerWorkspaceId } = await locate(db, workspaceId, partnershipId);
  const { rows } = await db.query<{ id: string; message: string | null; agreement: Partnership['agreement']; created_at: Date }>(
    'select id, message, agreement, created_at from partnerships where workspace_id = $1 and id = $2',
    [ownerWorkspaceId, partnershipId],
  );
  const head = rows[0]!;
  const members = await membersOf(db, ownerWorkspaceId, partnershipId);
  const active = members.filter((m) => m.status === 'active').length;
  return {
    id: head.id,
    status: active >= 2 ? 'active' : 'invited',
    kind: members.filter((m) => m.status !== 'declined').length > 2 ? 'coalition' : 'pair',
    message: head.message,
    agreement: head.agreement,
    createdByWorkspaceId: ownerWorkspaceId,
    members: members.map((m) => ({
      workspaceId: m.workspace_id,
      name: m.name,
      slug: m.slug,
      status: m.status,
      program: m.program_id && m.program_name && m.program_currency ? { id: m.program_id, name: m.program_name, currency: m.program_currency } : null,
      invitedAt: m.invited_at.toISOString(),
      joinedAt: m.joined_at?.toISOString() ?? null,
    })),
    createdAt: head.created_at.toISOString(),
  };
}

export async function membersOf(db: Db, ownerWorkspaceId: string, partnershipId: string): Promise<MemberRow[]> {
  const { rows } = await db.query<MemberRow>(
    `select m.workspace_id, m.status, m.program_id, m.invited_at, m.joined_at, w.name, w.slug, p.name as program_name, p.currency as program_currency
       from partnership_members m
       join workspaces w on w.workspace_id = m.workspace_id
       left join programs p on p.workspace_id = m.workspace_id and p.id = m.program_id
      where m.owner_workspace_id = $1 and m.partnership_id = $2
      order by m.invited_at, m.workspace_id`,
    [ownerWorkspaceId, partnershipId],
  );
  return rows;
}

export async function listPartnershipIds(db: Db, workspaceId: string, after: string | undefined, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ partnership_id: string }>(
    'select partnership_id from partnership_members where workspace_id = $1 and ($2::text is null or partnership_id < $2) order by partnership_id desc limit $3',
    [workspaceId, after ?? null, limit + 1],
  );
  return rows.map((r) => r.partnership_id);
}

async function usableProgram(db: Db, workspaceId: string, programId: string): Promise<ProgramRow> {
  const program = await getProgramRow(db, workspaceId, programId);
  if (program.status === 'closed') throw new ApiError('unprocessable', 'A closed program cannot take partners', [{ path: 'programId', message: 'is closed' }]);
  return program;
}

async function inviteMember(client: pg.PoolClient, ownerWorkspaceId: string, partnershipId: string, invitedWorkspaceId: string, invitedBy: string, now: Date): Promise<void> {
  const { rowCount } = await client.query(
    `insert into partnership_members (workspace_id, partnership_id, owner_workspace_id, status, invited_by, invited_at)
     values ($1, $2, $3, 'invited', $4, $5) on conflict (workspace_id, partnership_id) do nothing`,
    [invitedWorkspaceId, partnershipId, ownerWorkspaceId, invitedBy, now],
  );
  if (!rowCount) throw new ApiError('conflict', 'This brand is already part of the partnership', [{ path: 'inviteWorkspaceSlug', message: 'is already a member' }]);
}

export async function createPartnership(
  client: pg.PoolClient,
  input: { workspaceId: string; actor: AuditActor; invitee: Invitee; programId: string; message?: string | undefined; agreement?: Partnership['agreement'] | undefined; now: Date },
): Promise<string> {
  await usableProgram(client, input.workspaceId, input.programId);
  const invited = await resolveInvitee(client, input.invitee);
  if (invited === input.workspaceId) throw new ApiError('unprocessable', 'A brand cannot partner with itself', [{ path: input.invitee.inviteEmail ? 'inviteEmail' : 'inviteWorkspaceSlug', message: 'is your own workspace' }]);
  const id = newId('psh');
  await client.query('insert into partnerships (workspace_id, id, message, agreement, created_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)', [
    input.workspaceId, id, input.message ?? null, JSON.stringify(input.agreement ?? {}), input.actor.id, input.now,
  ]);
  await client.query(
    `insert into partnership_members (workspace_id, partnership_id, owner_workspace_id, status, program_id, invited_at, joined_at) values ($1, $2, $1, 'active', $3, $4, $4)`,
    [input.workspaceId, id, input.programId, input.now],
  );
  await inviteMember(client, input.workspaceId, id, invited, input.workspaceId, input.now);
  await recordAudit(client, { workspaceId: input.workspaceId, actor: input.actor, action: 'partnership.created', target: { type: 'partnership', id }, after: { invitedWorkspaceId: invited, programId: input.programId } });
  return id;
}

export async function addMember(client: pg.PoolClient, input: { workspaceId: string; partnershipId: string; invitee: Invitee; actor: AuditActor; now: Date }): Promise<void> {
  const { ownerWorkspaceId, myStatus } = await locate(client, input.workspaceId, input.partnershipId, { lock: true });
  if (myStatus !== 'active') throw new ApiError('forbidden', 'Only members who joined can invite other brands');
  const invited = await resolveInvitee(client, input.invitee);
  await inviteMember(client, ownerWorkspaceId, input.partnershipId, invited, input.workspaceId, input.now);
  await recordAudit(client, { workspaceId: input.workspaceId, actor: input.actor, action: 'partnership.member_invited', target: { type: 'partnership', id: input.partnershipId }, after: { invitedWorkspaceId: invited } });
}

/** The email and name under which a brand appears as a partner in another brand's program. */
async function brandIdentity(db: Db, workspaceId: string): Promise<{ email: string; name: string }> {
  const { rows } = await db.query<{ email: string; name: string }>(
    `select u.email, w.name from workspaces w
       join memberships m on m.workspace_id = w.workspace_id and m.role = 'owner'
       join users u on u.id = m.user_id
      where w.workspace_id = $1 order by m.created_at limit 1`,
    [workspaceId],
  );
  if (!rows[0]) throw new ApiError('internal', 'A member brand has no owner');
  return rows[0];
}

/**
 * Makes `guest` an approved partner in `host`'s program. The brand's existing partner row (same
 * owner email) is reused; an enrollment that exists is approved unless it was banned.
 */
async function enrollBrandInProgram(client: pg.PoolClient, host: ProgramRow, guestWorkspaceId: string, partnershipId: string, now: Date): Promise<void> {
  const guest = await brandIdentity(client, guestWorkspaceId);
  const reason = `reciprocal partnership ${partnershipId}`;
  // Locked as read: a council vote approving the enrollment meanwhile made the approval below a 422
  // (approved cannot become approved) rather than the nothing-to-do it is.
  const { rows } = await client.query<{ id: string; status: string }>(
    `select e.id, e.status from enrollments e join partners p on p.workspace_id = e.workspace_id and p.id = e.partner_id
      where e.workspace_id = $1 and e.program_id = $2 and p.email = $3 for update of e`,
    [host.workspace_id, host.id, guest.email],
  );
  const existing = rows[0];
  if (!existing) {
    await addPartnerToProgram(client, host, { email: guest.email, name: guest.name, status: 'approved', partnerWorkspaceId: guestWorkspaceId, reason }, SYSTEM_ACTOR, now);
    return;
  }
  await client.query('update partners set partner_workspace_id = $3 where workspace_id = $1 and email = $2', [host.workspace_id, guest.email, guestWorkspaceId]);
  if (existing.status === 'approved') return;
  if (existing.status === 'banned') throw new ApiError('conflict', `${guest.name} is banned from ${host.name}`);
  // The program as it is now that the enrollment is locked: one closed since `host` was read, which
  // rejected this enrollment's pending application, must refuse the approval (422), not make it.
  const program = await getProgramRow(client, host.workspace_id, host.id);
  await transitionEnrollment(client, { workspaceId: host.workspace_id, enrollmentId: existing.id, to: 'approved', reason, actor: SYSTEM_ACTOR, program, now, acceptTerms: { version: program.terms_version, ipHash: null } });
}

/** An invited brand joins with its program: every pair of active members becomes partners both ways. */
export async function acceptPartnership(client: pg.PoolClient, input: { workspaceId: string; partnershipId: string; programId: string; actor: AuditActor; now: Date }): Promise<void> {
  const { ownerWorkspaceId, myStatus } = await locate(client, input.workspaceId, input.partnershipId, { lock: true });
  if (myStatus === 'active') throw new ApiError('conflict', 'This brand has already joined the partnership');
  if (myStatus === 'declined') throw new ApiError('conflict', 'This brand declined the partnership');
  const mine = await usableProgram(client, input.workspaceId, input.programId);
  await client.query(`update partnership_members set status = 'active', program_id = $3, joined_at = $4 where workspace_id = $1 and partnership_id = $2`, [
    input.workspaceId, input.partnershipId, input.programId, input.now,
  ]);
  const others = (await membersOf(client, ownerWorkspaceId, input.partnershipId)).filter((m) => m.status === 'active' && m.workspace_id !== input.workspaceId && m.program_id);
  for (const other of others) {
    const theirs = await getProgramRow(client, other.workspace_id, other.program_id!);
    await enrollBrandInProgram(client, theirs, input.workspaceId, input.partnershipId, input.now);
    await enrollBrandInProgram(client, mine, other.workspace_id, input.partnershipId, input.now);
  }
  await recordAudit(client, { workspaceId: input.workspaceId, actor: input.actor, action: 'partnership.accepted', target: { type: 'partnership', id: input.partnershipId }, after: { programId: input.programId } });
}

export async function declinePartnership(client: pg.PoolClient, input: { workspaceId: string; partnershipId: string; actor: AuditActor }): Promise<void> {
  const { myStatus } = await locate(client, input.workspaceId, input.partnershipId, { lock: true });
  if (myStatus !== 'invited') throw new ApiError('conflict', `This brand is ${myStatus === 'active' ? 'already a member' : 'no longer invited'}`);
  await client.query(`update partnership_members set status = 'declined' where workspace_id = $1 and partnership_id = $2`, [input.workspaceId, input.partnershipId]);
  await recordAudit(client, { workspaceId: input.workspaceId, actor: input.actor, action: 'partnership.declined', target: { type: 'partnership', id: input.partnershipId } });
}
