import type pg from 'pg';
import type { z } from 'zod';
import { ApiError, type reviewItem } from '@tandem/contracts';
import type { Services, WorkspaceAuth } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { lockPartners } from '../../db/locks.js';
import { actorOf, recordAudit, type AuditActor } from '../audit/record.js';
import { holdCommission, releaseCommission, reverseCommission, SETTLED_OFFSET_SQL } from '../rewards/index.js';

type ReviewItem = z.input<typeof reviewItem>;
export type ReviewStatus = 'held' | 'released' | 'rejected';

interface ReviewRow {
  commission_id: string;
  program_id: string;
  partner_id: string;
  amount: string | number;
  currency: string;
  commission_status: string;
  score: number;
  held_by: 'score' | 'ban' | null;
  review: 'none' | 'pending' | 'released' | 'rejected';
  review_reason: string | null;
  reviewed_at: Date | null;
  created_at: Date;
}

const REVIEW_SELECT = `select a.commission_id, a.program_id, a.partner_id, c.amount, c.currency, c.status as commission_status, a.score, a.held_by,
                              a.review, a.review_reason, a.reviewed_at, a.created_at
                         from fraud_assessments a join commissions c on c.workspace_id = a.workspace_id and c.id = a.commission_id`;

const reviewFor: Record<ReviewStatus, ReviewRow['review']> = { held: 'pending', released: 'released', rejected: 'rejected' };

async function withSignals(db: pg.Pool | pg.PoolClient, workspaceId: string, rows: ReviewRow[]): Promise<ReviewItem[]> {
  const { rows: signals } = await db.query<{ commission_id: string; rule_type: ReviewItem['signals'][number]['type']; weight: number; strong: boolean; summary: string; evidence: Record<string, unknown> }>(
    'select commission_id, rule_type, weight, strong, summary, evidence from fraud_signals where workspace_id = $1 and commission_id = any($2) order by weight desc, rule_type',
    [workspaceId, rows.map((r) => r.commission_id)],
  );
  return rows.map((r) => ({
    commissionId: r.commission_id,
    programId: r.program_id,
    partnerId: r.partner_id,
    amount: Number(r.amount),
    currency: r.currency,
    commissionStatus: r.commission_status,
    score: r.score,
    heldBy: r.held_by,
    review: r.review,
    reviewReason: r.review_reason,
    reviewedAt: r.reviewed_at?.toISOString() ?? null,
    signals: signals.filter((s) => s.commission_id === r.commission_id).map((s) => ({ type: s.rule_type, weight: s.weight, strong: s.strong, summary: s.summary, evidence: s.evidence })),
    createdAt: r.created_at.toISOString(),
  }));
}

/** The review queue (`held`) or its history, newest first, each item with the signals that held it. */
export async function listReviews(services: Services, workspaceId: string, filter: { status: ReviewStatus; programId?: string | undefined; partnerId?: string | undefined; after?: string | undefined; limit: number }): Promise<ReviewItem[]> {
  const { rows } = await services.pool.query<ReviewRow>(
    `${REVIEW_SELECT}
      where a.workspace_id = $1 and a.review = $2 and a.review <> 'none' and ($3::text is null or a.program_id = $3) and ($4::text is null or a.partner_id = $4)
        and ($5::text is null or a.commission_id < $5)
      order by a.commission_id desc limit $6`,
    [workspaceId, reviewFor[filter.status], filter.programId ?? null, filter.partnerId ?? null, filter.after ?? null, filter.limit + 1],
  );
  return withSignals(services.pool, workspaceId, rows);
}

/** The assessment of one commission, held or not; 404 for a commission never scored or of another workspace. */
export async function getReview(services: Services, workspaceId: string, commissionId: string): Promise<ReviewItem> {
  const { rows } = await services.pool.query<ReviewRow>(`${REVIEW_SELECT} where a.workspace_id = $1 and a.commission_id = $2`, [workspaceId, commissionId]);
  if (!rows[0]) throw new ApiError('not_found', 'No risk assessment for this commission');
  return (await withSignals(services.pool, workspaceId, rows))[0]!;
}

async function lockPendingReview(client: pg.PoolClient, workspaceId: string, commissionId: string): Promise<ReviewRow> {
  const { rows } = await client.query<ReviewRow>(`${REVIEW_SELECT} where a.workspace_id = $1 and a.commission_id = $2 for update of a`, [workspaceId, commissionId]);
  const row = rows[0];
  if (!row || row.review === 'none') throw new ApiError('not_found', 'No held commission with this id in the review queue');
  if (row.review !== 'pending') throw new ApiError('conflict', `This commission was already ${row.review}`);
  return row;
}

/**
 * Ends the hold of a commission in the review queue: `release` sends it back to its normal
 * lifecycle, `reject` reverses it. Used by the review queue and by accepted disputes.
 */
export async function decideHeldCommission(
  client: pg.PoolClient,
  services: Services,
  input: { workspaceId: string; commissionId: string; action: 'release' | 'reject'; reason: string; actor: AuditActor },
): Promise<ReviewItem> {
  const row = await lockPendingReview(client, input.workspaceId, input.commissionId);
  if (row.commission_status !== 'held') throw new ApiError('conflict', `The commission is ${row.commission_status}, not held`);
  if (input.action === 'release') await releaseCommission(client, { workspaceId: input.workspaceId, commissionId: input.commissionId, reason: input.reason });
  else await reverseCommission(client, { workspaceId: input.workspaceId, commissionId: input.commissionId, reason: input.reason, now: services.now() });
  const review = input.action === 'release' ? 'released' : 'rejected';
  await client.query(
    'update fraud_assessments set review = $3, review_reason = $4, reviewed_by = $5, reviewed_at = $6 where workspace_id = $1 and commission_id = $2',
    [input.workspaceId, input.commissionId, review, input.reason, input.actor.id ?? input.actor.kind, services.now()],
  );
  await recordAudit(client, {
    workspaceId: input.workspaceId,
    actor: input.actor,
    action: input.action === 'release' ? 'commission.hold_released' : 'commission.hold_rejected',
    target: { type: 'commission', id: input.commissionId },
    before: { status: 'held', review: 'pending' },
    after: { review, reason: input.reason },
  });
  const { rows } = await client.query<ReviewRow>(`${REVIEW_SELECT} where a.workspace_id = $1 and a.commission_id = $2`, [input.workspaceId, input.commissionId]);
  return (await withSignals(client, input.workspaceId, rows))[0]!;
}

export async function decideReview(services: Services, auth: WorkspaceAuth, commissionId: string, action: 'release' | 'reject', reason: string): Promise<ReviewItem> {
  return withTransaction(services.pool, (client) => decideHeldCommission(client, services, { workspaceId: auth.workspaceId, commissionId, action, reason, actor: actorOf(auth) }));
}

/** Each commission is decided in its own transaction: one that cannot be decided does not undo the others. */
export async function decideReviewsInBulk(services: Services, auth: WorkspaceAuth, commissionIds: string[], action: 'release' | 'reject', reason: string) {
  const results: { commissionId: string; ok: boolean; error?: string }[] = [];
  for (const commissionId of [...new Set(commissionIds)]) {
    try {
      await decideReview(services, auth, commissionId, action, reason);
      results.push({ commissionId, ok: true });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      results.push({ commissionId, ok: false, error: error.message });
    }
  }
  return { results };
}

/**
 * Holds every commission of a partner not yet paid out (pending, or payable outside a payout) —
 * in one program or all — e.g. when it is banned, and puts them in the review queue. Returns the ids held.
 *
 * What the partner owes (a clawback, a debit adjustment) is not held: holding stops money going
 * out, and a held debt would leave the partner's balance, where it nets against later payouts —
 * rejecting the review could not reverse it (there is nothing left to reduce), so it stayed held.
 */
export async function holdAllPending(client: pg.PoolClient, services: Services, input: { workspaceId: string; partnerId: string; programId?: string; reason: string }): Promise<string[]> {
  // The partner's locks before any of its commission rows, as every money path takes them (db/locks.ts):
  // locking the rows first waited, in the opposite order, on a maturity run or a refund of the partner.
  const programs = input.programId
    ? [input.programId]
    : (await client.query<{ program_id: string }>('select program_id from enrollments where workspace_id = $1 and partner_id = $2', [input.workspaceId, input.partnerId])).rows.map(
        (r) => r.program_id,
      );
  await lockPartners(client, input.workspaceId, programs.map((programId) => ({ programId, partnerId: input.partnerId })));
  const { rows } = await client.query<{ id: string; program_id: string }>(
    // A commission partly settled by partnership netting is money on its way, like one in a payout.
    `select c.id, c.program_id from commissions c where c.workspace_id = $1 and c.partner_id = $2 and ($3::text is null or c.program_id = $3)
        and c.amount > 0
        and (c.status = 'pending' or (c.status = 'payable' and c.payout_id is null and ${SETTLED_OFFSET_SQL} = 0))
      order by c.id for update`,
    [input.workspaceId, input.partnerId, input.programId ?? null],
  );
  const now = services.now();
  for (const c of rows) {
    await holdCommission(client, { workspaceId: input.workspaceId, commissionId: c.id, reason: input.reason, now });
    await client.query(
      `insert into fraud_assessments (workspace_id, commission_id, program_id, partner_id, score, held_by, review, review_reason, created_at)
       values ($1, $2, $3, $4, 0, 'ban', 'pending', null, $5)
       on conflict (workspace_id, commission_id) do update set held_by = 'ban', review = 'pending', review_reason = null, reviewed_by = null, reviewed_at = null`,
      [input.workspaceId, c.id, c.program_id, input.partnerId, now],
    );
  }
  return rows.map((r) => r.id);
}
