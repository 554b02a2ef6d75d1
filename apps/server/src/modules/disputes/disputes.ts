import type pg from 'pg';
import type { z } from 'zod';
import { ApiError, type decideDisputeBody, type disputePolicyBody, type fileDisputeBody } from '@tandem/contracts';
import { DEFAULT_DISPUTE_RESPONSE_DAYS, disputeDeadlineOutcome, disputeResponseDeadline, newId, transitionDispute, type DeadlinePolicy, type DisputeAction, type DisputeParty } from '@tandem/core';
import type { Services, WorkspaceAuth } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { emitEvent } from '../events/emit.js';
import { actorOf, recordAudit, type AuditActor } from '../audit/record.js';
import { partnerRowsOfUser, type PartnerRow } from './partner-access.js';
import { toCommentView, toDisputeView, type CommentRow, type DisputeRow } from './dispute-rows.js';
import { findCommissionOfPartner, findPayoutOfPartner } from './subjects.js';
import { applyResolution, automaticResolution } from './resolve.js';
import { recordPartnerRequestIp } from '../fraud/identities.js';

type FileBody = z.output<typeof fileDisputeBody>;
type DecideBody = z.output<typeof decideDisputeBody>;
type PolicyChange = z.output<typeof disputePolicyBody>;

export interface DisputePolicy {
  programId: string;
  responseDays: number;
  onDeadline: DeadlinePolicy;
}

/** Who acted, as stored on the dispute (`usr_…`, `key_…` or `system`). */
export function actorIdOf(actor: AuditActor): string {
  return actor.id ?? actor.kind;
}

async function assertProgram(db: pg.Pool | pg.PoolClient, workspaceId: string, programId: string): Promise<void> {
  const { rowCount } = await db.query('select 1 from programs where workspace_id = $1 and id = $2', [workspaceId, programId]);
  if (!rowCount) throw new ApiError('not_found', 'Program not found');
}

export async function getDisputePolicy(db: pg.Pool | pg.PoolClient, workspaceId: string, programId: string): Promise<DisputePolicy> {
  await assertProgram(db, workspaceId, programId);
  const { rows } = await db.query<{ response_days: number; on_deadline: DeadlinePolicy }>(
    'select response_days, on_deadline from dispute_policies where workspace_id = $1 and program_id = $2',
    [workspaceId, programId],
  );
  return { programId, responseDays: rows[0]?.response_days ?? DEFAULT_DISPUTE_RESPONSE_DAYS, onDeadline: rows[0]?.on_deadline ?? 'escalate' };
}

export async function updateDisputePolicy(services: Services, auth: WorkspaceAuth, programId: string, change: PolicyChange): Promise<DisputePolicy> {
  return withTransaction(services.pool, async (client) => {
    const before = await getDisputePolicy(client, auth.workspaceId, programId);
    const after = { programId, responseDays: change.responseDays ?? before.responseDays, onDeadline: change.onDeadline ?? before.onDeadline };
    await client.query(
      `insert into dispute_policies (workspace_id, program_id, response_days, on_deadline, updated_at) values ($1, $2, $3, $4, $5)
       on conflict (workspace_id, program_id) do update set response_days = excluded.response_days, on_deadline = excluded.on_deadline, updated_at = excluded.updated_at`,
      [auth.workspaceId, programId, after.responseDays, after.onDeadline, services.now()],
    );
    await recordAudit(client, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'dispute_policy.changed', target: { type: 'program', id: programId }, before, after });
    return after;
  });
}

/** Where a new dispute belongs: the brand, program and partner row of the filing user. */
async function resolveSubject(client: pg.PoolClient, partnerRows: PartnerRow[], body: FileBody): Promise<PartnerRow & { programId: string }> {
  if (body.kind === 'commission') {
    const found = await findCommissionOfPartner(client, partnerRows, body.commissionId);
    if (!found) throw new ApiError('not_found', 'Commission not found', [{ path: 'commissionId', message: 'is not one of your commissions' }]);
    return found;
  }
  if (body.kind === 'payout') {
    const found = await findPayoutOfPartner(client, partnerRows, body.payoutId);
    if (!found) throw new ApiError('not_found', 'Payout not found', [{ path: 'payoutId', message: 'is not one of your payouts' }]);
    return found;
  }
  // Missing credit: the partner must be enrolled in the program it claims the sale for.
  const { rows } = await client.query<{ workspace_id: string; partner_id: string }>(
    `select e.workspace_id, e.partner_id from enrollments e
      where e.program_id = $1 and (e.workspace_id, e.partner_id) in (select * from unnest($2::text[], $3::text[]))`,
    [body.programId, partnerRows.map((p) => p.workspaceId), partnerRows.map((p) => p.partnerId)],
  );
  const row = rows[0];
  if (!row) throw new ApiError('not_found', 'Program not found', [{ path: 'programId', message: 'you are not a partner of this program' }]);
  return { workspaceId: row.workspace_id, partnerId: row.partner_id, programId: body.programId };
}

/** Files a dispute for the user's partner row the subject belongs to; `ip` is the partner's own address (fraud identity). */
export async function fileDispute(services: Services, userId: string, body: FileBody, ip: string) {
  const partnerRows = await partnerRowsOfUser(services.pool, userId);
  if (partnerRows.length === 0) throw new ApiError('forbidden', 'Only partners file disputes; this user is no brand’s partner');
  return withTransaction(services.pool, async (client) => {
    const subject = await resolveSubject(client, partnerRows, body);
    const policy = await getDisputePolicy(client, subject.workspaceId, subject.programId);
    const now = services.now();
    const { rows } = await client.query<DisputeRow>(
      `insert into disputes (workspace_id, id, program_id, partner_id, kind, commission_id, payout_id, order_id, customer_email, sale_date,
                             message, evidence_urls, status, due_at, on_deadline, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $14, $15, $15) returning *`,
      [
        subject.workspaceId, newId('dsp'), subject.programId, subject.partnerId, body.kind,
        body.kind === 'commission' ? body.commissionId : null,
        body.kind === 'payout' ? body.payoutId : null,
        body.kind === 'missing_credit' ? body.orderId : null,
        body.kind === 'missing_credit' ? body.customerEmail : null,
        body.kind === 'missing_credit' ? body.saleDate : null,
        body.message, body.evidenceUrls, disputeResponseDeadline(now, policy.responseDays), policy.onDeadline, now,
      ],
    );
    const row = rows[0]!;
    await recordPartnerRequestIp(client, services.secret, { workspaceId: row.workspace_id, partnerId: row.partner_id, ip, at: now });
    await emitEvent(client, { workspaceId: row.workspace_id, type: 'dispute.created', data: toDisputeView(row) });
    await recordAudit(client, { workspaceId: row.workspace_id, actor: { kind: 'partner', id: row.partner_id }, action: 'dispute.filed', target: { type: 'dispute', id: row.id }, after: { kind: row.kind, status: row.status } });
    return { ...toDisputeView(row), comments: [] };
  });
}

async function lockDispute(client: pg.PoolClient, workspaceId: string, id: string): Promise<DisputeRow> {
  const { rows } = await client.query<DisputeRow>('select * from disputes where workspace_id = $1 and id = $2 for update', [workspaceId, id]);
  if (!rows[0]) throw new ApiError('not_found', 'Dispute not found');
  return rows[0];
}

/** The dispute if it belongs to one of the user's partner rows; another partner's is simply not found. */
async function portalDisputeKey(db: pg.Pool, userId: string, id: string): Promise<{ workspaceId: string }> {
  const partnerRows = await partnerRowsOfUser(db, userId);
  const { rows } = await db.query<{ workspace_id: string }>(
    `select workspace_id from disputes where id = $1 and (workspace_id, partner_id) in (select * from unnest($2::text[], $3::text[]))`,
    [id, partnerRows.map((p) => p.workspaceId), partnerRows.map((p) => p.partnerId)],
  );
  if (!rows[0]) throw new ApiError('not_found', 'Dispute not found');
  return { workspaceId: rows[0].workspace_id };
}

async function commentsOf(db: pg.Pool | pg.PoolClient, workspaceId: string, disputeId: string) {
  const { rows } = await db.query<CommentRow>(
    'select id, author, body, created_at from dispute_comments where workspace_id = $1 and dispute_id = $2 order by created_at, id',
    [workspaceId, disputeId],
  );
  return rows.map(toCommentView);
}

async function disputeWithComments(db: pg.Pool, workspaceId: string, id: string, audience: 'brand' | 'partner') {
  const { rows } = await db.query<DisputeRow>('select * from disputes where workspace_id = $1 and id = $2', [workspaceId, id]);
  if (!rows[0]) throw new ApiError('not_found', 'Dispute not found');
  return { ...toDisputeView(rows[0], audience), comments: await commentsOf(db, workspaceId, id) };
}

export async function getBrandDispute(services: Services, workspaceId: string, id: string) {
  return disputeWithComments(services.pool, workspaceId, id, 'brand');
}

export async function getPortalDispute(services: Services, userId: string, id: string) {
  const { workspaceId } = await portalDisputeKey(services.pool, userId, id);
  return disputeWithComments(services.pool, workspaceId, id, 'partner');
}

export interface DisputeFilter {
  status?: string | undefined;
  programId?: string | undefined;
  escalated?: boolean | undefined;
  after?: string | null | undefined;
  limit: number;
}

export async function listBrandDisputes(services: Services, workspaceId: string, filter: DisputeFilter) {
  const { rows } = await services.pool.query<DisputeRow>(
    `select * from disputes where workspace_id = $1 and ($2::text is null or status = $2) and ($3::text is null or program_id = $3)
        and ($4::boolean is null or (escalated_at is not null) = $4) and ($5::text is null or id < $5)
      order by id desc limit $6`,
    [workspaceId, filter.status ?? null, filter.programId ?? null, filter.escalated ?? null, filter.after ?? null, filter.limit + 1],
  );
  return rows.map((row) => toDisputeView(row));
}

export async function listPortalDisputes(services: Services, userId: string, filter: DisputeFilter) {
  const partnerRows = await partnerRowsOfUser(services.pool, userId);
  const { rows } = await services.pool.query<DisputeRow>(
    `select * from disputes where (workspace_id, partner_id) in (select * from unnest($1::text[], $2::text[]))
        and ($3::text is null or status = $3) and ($4::text is null or id < $4)
      order by id desc limit $5`,
    [partnerRows.map((p) => p.workspaceId), partnerRows.map((p) => p.partnerId), filter.status ?? null, filter.after ?? null, filter.limit + 1],
  );
  return rows.map((row) => toDisputeView(row, 'partner'));
}

function assertTransition(row: DisputeRow, action: DisputeAction, party: DisputeParty) {
  const result = transitionDispute(row.status, action, party);
  if (!result.ok) throw new ApiError('conflict', result.reason);
  return result.to;
}

async function addComment(client: pg.PoolClient, services: Services, row: DisputeRow, author: 'brand' | 'partner', authorId: string, body: string) {
  assertTransition(row, 'comment', author);
  const now = services.now();
  const { rows } = await client.query<CommentRow>(
    `insert into dispute_comments (workspace_id, id, dispute_id, author, author_id, body, created_at) values ($1, $2, $3, $4, $5, $6, $7)
     returning id, author, body, created_at`,
    [row.workspace_id, newId('cmt'), row.id, author, authorId, body, now],
  );
  await client.query('update disputes set updated_at = $3 where workspace_id = $1 and id = $2', [row.workspace_id, row.id, now]);
  await emitEvent(client, { workspaceId: row.workspace_id, type: 'dispute.updated', data: { id: row.id, change: 'comment', author } });
  return toCommentView(rows[0]!);
}

export async function commentAsBrand(services: Services, auth: WorkspaceAuth, id: string, body: string) {
  return withTransaction(services.pool, async (client) => addComment(client, services, await lockDispute(client, auth.workspaceId, id), 'brand', actorIdOf(actorOf(auth)), body));
}

export async function commentAsPartner(services: Services, userId: string, id: string, body: string) {
  const { workspaceId } = await portalDisputeKey(services.pool, userId, id);
  return withTransaction(services.pool, async (client) => addComment(client, services, await lockDispute(client, workspaceId, id), 'partner', userId, body));
}

async function setStatus(client: pg.PoolClient, services: Services, row: DisputeRow, to: DisputeRow['status']): Promise<DisputeRow> {
  const { rows } = await client.query<DisputeRow>(
    'update disputes set status = $3, updated_at = $4 where workspace_id = $1 and id = $2 returning *',
    [row.workspace_id, row.id, to, services.now()],
  );
  const updated = rows[0]!;
  await emitEvent(client, { workspaceId: row.workspace_id, type: 'dispute.updated', data: toDisputeView(updated) });
  return updated;
}

export async function reviewDispute(services: Services, auth: WorkspaceAuth, id: string) {
  return withTransaction(services.pool, async (client) => {
    const row = await lockDispute(client, auth.workspaceId, id);
    const updated = await setStatus(client, services, row, assertTransition(row, 'review', 'brand'));
    await recordAudit(client, { workspaceId: row.workspace_id, actor: actorOf(auth), action: 'dispute.under_review', target: { type: 'dispute', id }, before: { status: row.status }, after: { status: updated.status } });
    return toDisputeView(updated);
  });
}

export async function withdrawDispute(services: Services, userId: string, id: string) {
  const { workspaceId } = await portalDisputeKey(services.pool, userId, id);
  return withTransaction(services.pool, async (client) => {
    const row = await lockDispute(client, workspaceId, id);
    const updated = await setStatus(client, services, row, assertTransition(row, 'withdraw', 'partner'));
    await recordAudit(client, { workspaceId, actor: { kind: 'partner', id: row.partner_id }, action: 'dispute.withdrawn', target: { type: 'dispute', id }, before: { status: row.status }, after: { status: updated.status } });
    return toDisputeView(updated, 'partner');
  });
}

/**
 * Decides a locked dispute. Accepting applies its ledger effect in the caller's transaction, so
 * the decision and the money move commit together or not at all.
 */
async function decideLocked(client: pg.PoolClient, services: Services, row: DisputeRow, decision: DecideBody, actor: AuditActor): Promise<DisputeRow> {
  const party: DisputeParty = actor.kind === 'system' ? 'system' : 'brand';
  assertTransition(row, decision.decision === 'accepted' ? 'accept' : 'reject', party);
  let resolution: Record<string, unknown> | null = null;
  if (decision.decision === 'accepted') {
    if (!decision.resolution) throw new ApiError('unprocessable', 'Accepting a dispute needs its resolution', [{ path: 'resolution', message: 'is required when accepting' }]);
    resolution = await applyResolution(client, services, row, decision.resolution, decision.reason);
  } else if (decision.resolution) {
    throw new ApiError('unprocessable', 'A rejected dispute has no resolution', [{ path: 'resolution', message: 'only goes with an accepted decision' }]);
  }
  const now = services.now();
  const { rows } = await client.query<DisputeRow>(
    `update disputes set status = $3, decision_reason = $4, resolution = $5, decided_by = $6, decided_at = $7, updated_at = $7
      where workspace_id = $1 and id = $2 returning *`,
    [row.workspace_id, row.id, decision.decision, decision.reason, resolution === null ? null : JSON.stringify(resolution), actorIdOf(actor), now],
  );
  const updated = rows[0]!;
  await emitEvent(client, { workspaceId: row.workspace_id, type: 'dispute.decided', data: toDisputeView(updated) });
  await recordAudit(client, { workspaceId: row.workspace_id, actor, action: `dispute.${decision.decision}`, target: { type: 'dispute', id: row.id }, before: { status: row.status }, after: { status: updated.status, reason: decision.reason, resolution } });
  return updated;
}

export async function decideDispute(services: Services, auth: WorkspaceAuth, id: string, decision: DecideBody) {
  return withTransaction(services.pool, async (client) => toDisputeView(await decideLocked(client, services, await lockDispute(client, auth.workspaceId, id), decision, actorOf(auth))));
}

/**
 * The deadline sweep: every undecided dispute past its due time is escalated (once: flag +
 * `dispute.updated`) or decided by the program's policy. An automatic acceptance needs an effect
 * that follows from the dispute alone (see `automaticResolution`); when there is none the dispute
 * is escalated instead, because money is never moved on a guess.
 */
export async function runDisputeDeadlines(services: Services): Promise<{ escalated: number; decided: number }> {
  const now = services.now();
  const { rows: due } = await services.pool.query<{ workspace_id: string; id: string }>(
    // An escalated dispute is the brand's to decide: taking it up again on every run would let a
    // backlog of undecidable ones (policy 'accept' with no automatic effect) starve newer ones.
    `select workspace_id, id from disputes where status in ('open', 'under_review') and due_at <= $1
        and escalated_at is null order by due_at limit 500`,
    [now],
  );
  let escalated = 0;
  let decided = 0;
  for (const key of due) {
    await withTransaction(services.pool, async (client) => {
      const row = await lockDispute(client, key.workspace_id, key.id);
      const outcome = disputeDeadlineOutcome({ status: row.status, dueAt: row.due_at, escalatedAt: row.escalated_at }, now, row.on_deadline);
      if (outcome.kind === 'none') return;
      const system: AuditActor = { kind: 'system', id: null };
      if (outcome.kind === 'decide') {
        const reason = `No answer by the deadline (${row.due_at.toISOString()}); decided by the program's policy`;
        const resolution = outcome.decision === 'accepted' ? await automaticResolution(client, row) : undefined;
        if (outcome.decision === 'rejected' || resolution) {
          await decideLocked(client, services, row, { decision: outcome.decision, reason, ...(resolution ? { resolution } : {}) }, system);
          decided += 1;
          return;
        }
      }
      if (row.escalated_at) return;
      const { rows } = await client.query<DisputeRow>('update disputes set escalated_at = $3, updated_at = $3 where workspace_id = $1 and id = $2 returning *', [row.workspace_id, row.id, now]);
      await emitEvent(client, { workspaceId: row.workspace_id, type: 'dispute.updated', data: { ...toDisputeView(rows[0]!), change: 'escalated' } });
      await recordAudit(client, { workspaceId: row.workspace_id, actor: system, action: 'dispute.escalated', target: { type: 'dispute', id: row.id }, after: { dueAt: row.due_at.toISOString() } });
      escalated += 1;
    });
  }
  return { escalated, decided };
}
