import type { z } from 'zod';
import type { dispute as disputeSchema, disputeComment } from '@tandem/contracts';
import type { DeadlinePolicy, DisputeStatus } from '@tandem/core';

export interface DisputeRow {
  workspace_id: string;
  id: string;
  program_id: string;
  partner_id: string;
  kind: 'commission' | 'missing_credit' | 'payout';
  commission_id: string | null;
  payout_id: string | null;
  order_id: string | null;
  customer_email: string | null;
  sale_date: string | null;
  message: string;
  evidence_urls: string[];
  status: DisputeStatus;
  due_at: Date;
  on_deadline: DeadlinePolicy;
  escalated_at: Date | null;
  decision_reason: string | null;
  resolution: Record<string, unknown> | null;
  decided_by: string | null;
  decided_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface CommentRow {
  id: string;
  author: 'brand' | 'partner';
  body: string;
  created_at: Date;
}

export type DisputeView = z.input<typeof disputeSchema>;

/**
 * What the partner sees of a decision: its own effect, never the other side's internals (which
 * partner lost a re-attributed sale, that partner's commission ids, which brand user decided).
 */
const PARTNER_VISIBLE_RESOLUTION_KEYS = ['kind', 'amount', 'commissionId', 'saleId', 'explanation'];

function forPartner(resolution: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!resolution) return null;
  return Object.fromEntries(Object.entries(resolution).filter(([key]) => PARTNER_VISIBLE_RESOLUTION_KEYS.includes(key)));
}

export function toDisputeView(row: DisputeRow, audience: 'brand' | 'partner' = 'brand'): DisputeView {
  const decidedBy = audience === 'brand' || row.decided_by === 'system' ? row.decided_by : 'brand';
  return {
    id: row.id,
    programId: row.program_id,
    partnerId: row.partner_id,
    kind: row.kind,
    commissionId: row.commission_id,
    payoutId: row.payout_id,
    missingCredit: row.kind === 'missing_credit' ? { orderId: row.order_id ?? '', customerEmail: row.customer_email ?? '', saleDate: row.sale_date ?? '' } : null,
    message: row.message,
    evidenceUrls: row.evidence_urls,
    status: row.status,
    dueAt: row.due_at.toISOString(),
    onDeadline: row.on_deadline,
    escalated: row.escalated_at !== null,
    escalatedAt: row.escalated_at?.toISOString() ?? null,
    decision:
      row.decided_at && decidedBy
        ? { reason: row.decision_reason, resolution: audience === 'brand' ? row.resolution : forPartner(row.resolution), decidedBy, decidedAt: row.decided_at.toISOString() }
        : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toCommentView(row: CommentRow): z.input<typeof disputeComment> {
  return { id: row.id, author: row.author, body: row.body, createdAt: row.created_at.toISOString() };
}
