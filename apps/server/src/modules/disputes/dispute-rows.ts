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

export function toDisputeView(row: DisputeRow): DisputeView {
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
      row.decided_at && row.decided_by
        ? { reason: row.decision_reason, resolution: row.resolution, decidedBy: row.decided_by, decidedAt: row.decided_at.toISOString() }
        : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toCommentView(row: CommentRow): z.input<typeof disputeComment> {
  return { id: row.id, author: row.author, body: row.body, createdAt: row.created_at.toISOString() };
}
