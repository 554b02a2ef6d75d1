/*
 * The life of a partner-filed dispute, as pure functions: which transitions are allowed for whom,
 * when the brand's response is due, and what happens once it is overdue.
 *
 *   open ─review→ under_review ─decide→ accepted | rejected
 *   open ─decide→ accepted | rejected          (a brand may decide without a separate review step)
 *   open | under_review ─withdraw→ withdrawn   (the partner only)
 */

export const DISPUTE_STATUSES = ['open', 'under_review', 'accepted', 'rejected', 'withdrawn'] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

export type DisputeAction = 'review' | 'accept' | 'reject' | 'withdraw' | 'comment';
export type DisputeParty = 'brand' | 'partner' | 'system';

export type DeadlinePolicy = 'escalate' | 'accept' | 'reject';
export const DEFAULT_DISPUTE_RESPONSE_DAYS = 7;

const transitions: Record<Exclude<DisputeAction, 'comment'>, { from: DisputeStatus[]; to: DisputeStatus; by: DisputeParty[] }> = {
  review: { from: ['open'], to: 'under_review', by: ['brand'] },
  accept: { from: ['open', 'under_review'], to: 'accepted', by: ['brand', 'system'] },
  reject: { from: ['open', 'under_review'], to: 'rejected', by: ['brand', 'system'] },
  withdraw: { from: ['open', 'under_review'], to: 'withdrawn', by: ['partner'] },
};

export function isDisputeClosed(status: DisputeStatus): boolean {
  return status === 'accepted' || status === 'rejected' || status === 'withdrawn';
}

export type TransitionResult = { ok: true; to: DisputeStatus } | { ok: false; reason: string };

/** Whether `party` may take `action` on a dispute in `status`, and the status it leads to. */
export function transitionDispute(status: DisputeStatus, action: DisputeAction, party: DisputeParty): TransitionResult {
  if (action === 'comment') {
    if (party === 'system') return { ok: false, reason: 'Only the brand or the partner comment' };
    return isDisputeClosed(status) ? { ok: false, reason: `The dispute is ${status}; it takes no more comments` } : { ok: true, to: status };
  }
  const rule = transitions[action];
  if (!rule.by.includes(party)) return { ok: false, reason: `Only the ${rule.by.join(' or ')} may ${action} a dispute` };
  if (!rule.from.includes(status)) return { ok: false, reason: `A dispute that is ${status} cannot be ${action === 'review' ? 'put under review' : rule.to}` };
  return { ok: true, to: rule.to };
}

/** When the brand's answer is due: `days` whole days after filing. */
export function disputeResponseDeadline(filedAt: Date, days: number): Date {
  return new Date(filedAt.getTime() + days * 24 * 3600 * 1000);
}

export type DeadlineOutcome = { kind: 'none' } | { kind: 'escalate' } | { kind: 'decide'; decision: 'accepted' | 'rejected' };

/**
 * What the deadline job does to one dispute at `now`: nothing while it is closed, not yet due or
 * already escalated; otherwise what the program's policy says.
 */
export function disputeDeadlineOutcome(dispute: { status: DisputeStatus; dueAt: Date; escalatedAt: Date | null }, now: Date, policy: DeadlinePolicy): DeadlineOutcome {
  if (isDisputeClosed(dispute.status) || now.getTime() < dispute.dueAt.getTime()) return { kind: 'none' };
  if (policy === 'accept') return { kind: 'decide', decision: 'accepted' };
  if (policy === 'reject') return { kind: 'decide', decision: 'rejected' };
  return dispute.escalatedAt ? { kind: 'none' } : { kind: 'escalate' };
}
