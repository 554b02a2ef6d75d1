import { describe, expect, it } from 'vitest';
import { disputeDeadlineOutcome, disputeResponseDeadline, isDisputeClosed, transitionDispute } from './dispute-lifecycle.js';

describe('dispute transitions', () => {
  it('lets the brand review an open dispute, then decide it', () => {
    expect(transitionDispute('open', 'review', 'brand')).toEqual({ ok: true, to: 'under_review' });
    expect(transitionDispute('under_review', 'accept', 'brand')).toEqual({ ok: true, to: 'accepted' });
    expect(transitionDispute('under_review', 'reject', 'brand')).toEqual({ ok: true, to: 'rejected' });
    expect(transitionDispute('open', 'accept', 'brand')).toEqual({ ok: true, to: 'accepted' });
  });
  it('lets only the partner withdraw, and only before a decision', () => {
    expect(transitionDispute('open', 'withdraw', 'partner')).toEqual({ ok: true, to: 'withdrawn' });
    expect(transitionDispute('under_review', 'withdraw', 'partner')).toEqual({ ok: true, to: 'withdrawn' });
    expect(transitionDispute('open', 'withdraw', 'brand').ok).toBe(false);
    expect(transitionDispute('accepted', 'withdraw', 'partner').ok).toBe(false);
  });
  it('refuses a partner deciding its own dispute and a second decision', () => {
    expect(transitionDispute('open', 'accept', 'partner').ok).toBe(false);
    expect(transitionDispute('rejected', 'accept', 'brand').ok).toBe(false);
    expect(transitionDispute('under_review', 'review', 'brand').ok).toBe(false);
  });
  it('takes comments from both sides until the dispute is closed', () => {
    expect(transitionDispute('open', 'comment', 'partner')).toEqual({ ok: true, to: 'open' });
    expect(transitionDispute('under_review', 'comment', 'brand')).toEqual({ ok: true, to: 'under_review' });
    for (const closed of ['accepted', 'rejected', 'withdrawn'] as const) {
      expect(isDisputeClosed(closed)).toBe(true);
      expect(transitionDispute(closed, 'comment', 'brand').ok).toBe(false);
    }
  });
});

describe('dispute deadlines', () => {
  const filedAt = new Date('2026-03-01T10:00:00Z');
  const dueAt = disputeResponseDeadline(filedAt, 7);
  it('falls due whole days after filing', () => {
    expect(dueAt.toISOString()).toBe('2026-03-08T10:00:00.000Z');
  });
  it('does nothing before the deadline', () => {
    expect(disputeDeadlineOutcome({ status: 'open', dueAt, escalatedAt: null }, new Date(dueAt.getTime() - 1), 'escalate')).toEqual({ kind: 'none' });
  });
  it('escalates once at the deadline under the escalate policy', () => {
    expect(disputeDeadlineOutcome({ status: 'open', dueAt, escalatedAt: null }, dueAt, 'escalate')).toEqual({ kind: 'escalate' });
    expect(disputeDeadlineOutcome({ status: 'under_review', dueAt, escalatedAt: dueAt }, dueAt, 'escalate')).toEqual({ kind: 'none' });
  });
  it('auto-decides under the accept and reject policies', () => {
    expect(disputeDeadlineOutcome({ status: 'open', dueAt, escalatedAt: null }, dueAt, 'accept')).toEqual({ kind: 'decide', decision: 'accepted' });
    expect(disputeDeadlineOutcome({ status: 'under_review', dueAt, escalatedAt: null }, dueAt, 'reject')).toEqual({ kind: 'decide', decision: 'rejected' });
  });
  it('leaves a closed dispute alone', () => {
    expect(disputeDeadlineOutcome({ status: 'withdrawn', dueAt, escalatedAt: null }, new Date(dueAt.getTime() + 1e9), 'accept')).toEqual({ kind: 'none' });
  });
});
