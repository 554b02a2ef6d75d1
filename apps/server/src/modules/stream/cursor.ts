/*
 * The functional core of the event stream: which outbox rows a poll asks for and which of them
 * the client has not seen yet. No I/O; the clock is passed in.
 *
 * Event ids are time-sortable (`evt_` + 10 characters of milliseconds + randomness) but an id is
 * made before its transaction commits, so a slow transaction can commit an id *older* than one
 * already streamed. Each poll therefore looks back a few seconds and drops what it already sent.
 */

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/** The smallest `evt_` id that could have been made at `ms` (same encoding as core's newId). */
export function eventIdFloor(ms: number): string {
  let out = '';
  let rest = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i++) {
    out = alphabet[rest % 32]! + out;
    rest = Math.floor(rest / 32);
  }
  return `evt_${out}`;
}

export interface StreamCursor {
  /** Stream only events after this id (the client's Last-Event-ID, or the connection start). */
  after: string;
  /** Ids sent within the look-back window, so a re-read does not send them twice. */
  sent: Map<string, number>;
}

export const LOOKBACK_MS = 10_000;

export function startCursor(nowMs: number, lastEventId?: string): StreamCursor {
  const resumable = lastEventId && /^evt_[0-9a-z]{26}$/.test(lastEventId);
  return { after: resumable ? lastEventId : eventIdFloor(nowMs), sent: new Map() };
}

/** The lower bound (exclusive) of the next poll: the cursor, or the look-back floor if earlier. */
export function pollFrom(cursor: StreamCursor, nowMs: number): string {
  const floor = eventIdFloor(nowMs - LOOKBACK_MS);
  return floor < cursor.after ? floor : cursor.after;
}

/**
 * Of the rows a poll read (ordered by id), the ones to send now; updates the cursor. Rows at or
 * before the client's resume point are never sent again.
 */
export function takeUnsent<T extends { id: string }>(cursor: StreamCursor, rows: T[], nowMs: number, resumePoint: string): T[] {
  const fresh = rows.filter((r) => r.id > resumePoint && !cursor.sent.has(r.id));
  for (const r of fresh) {
    cursor.sent.set(r.id, nowMs);
    if (r.id > cursor.after) cursor.after = r.id;
  }
  for (const [id, at] of cursor.sent) if (at < nowMs - 2 * LOOKBACK_MS) cursor.sent.delete(id);
  return fresh;
}

/** One SSE frame. JSON never holds a raw newline, so `data:` fits on one line. */
export function sseFrame(id: string | undefined, payload: unknown): string {
  return `${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(payload)}\n\n`;
}

/** The events a partner is told about: its own money, its disputes and its enrollments. Sales stay the brand's. */
export const PARTNER_EVENT_TYPES = [
  'partner.enrolled',
  'commission.created',
  'commission.payable',
  'commission.reversed',
  'payout.created',
  'payout.paid',
  'payout.failed',
  'dispute.created',
  'dispute.updated',
  'dispute.decided',
];

/** What a partner may see of an event about itself: its own ids, amounts and statuses, never the brand's customer data. */
const PARTNER_FIELDS = ['id', 'programId', 'partnerId', 'kind', 'amount', 'currency', 'status', 'payoutId', 'batchId'] as const;

export function partnerView(
  type: string,
  data: Record<string, unknown>,
  occurredAt: Date,
): { type: string; data: Record<string, unknown>; occurredAt: string } {
  const visible: Record<string, unknown> = {};
  for (const key of PARTNER_FIELDS) if (key in data) visible[key] = data[key];
  return { type, data: visible, occurredAt: occurredAt.toISOString() };
}
