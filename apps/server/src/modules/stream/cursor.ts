/*
 * The functional core of the event stream: the order it sends outbox rows in, where a stream
 * stands in that order, and which rows a poll may send. No I/O; routes.ts runs the queries.
 *
 * Why not the event id: an id is made before its transaction commits, so with concurrent writers an
 * event with a smaller id becomes visible after a larger one was sent (a transaction waiting on a
 * partner's lock, a slow hook, another node's clock). The stream used to re-read a 10 s look-back
 * window by id and drop what it had sent. Its 200-row page then started at the window's floor: once
 * the window held more than a page (20 events/s) every poll re-read rows already sent, the stream
 * only advanced as fast as the floor, and whatever of a burst the page did not reach before the floor
 * moved past it (more than a page in one poll interval) was never sent. A transaction that committed
 * more than 10 s after making its id was lost however quiet the stream was.
 *
 * The order used instead is (transaction id, event id). `outbox_events.xact_id` is the writing
 * transaction's id, and every transaction older than the oldest one still running
 * (`pg_snapshot_xmin(pg_current_snapshot())`) has committed or rolled back. A poll sends only rows
 * below that horizon, so no row can ever appear behind the position already sent: every committed
 * event is sent once, in an order every node and every reconnect agrees on. This was chosen over a
 * settle lag with an overlap window, which is exact only for transactions shorter than the window
 * (and nodes whose clocks agree) and re-reads the window on every poll. Its cost: a long-running
 * writing transaction anywhere on the PostgreSQL server holds newer events back until it ends; they
 * are late, never lost.
 */

/** Rows one query reads; a stream reads pages until one comes back short (caught up). */
export const STREAM_PAGE_SIZE = 200;

/** Where a stream stands: after the event (`xactId`, `id`) in stream order. */
export interface StreamPosition {
  /** The transaction id (xid8, decimal) of the last event sent, or the opening horizon. */
  xactId: string;
  /** The last event's id ('' before any: every id sorts after it). */
  id: string;
  /**
   * For a stream opened without a resume point, the snapshot taken when it opened (`pg_snapshot`
   * text): what it sees had committed before the stream opened and is not sent.
   */
  openedAt: string | null;
}

/** A stream without a resume point starts with the events that commit after it opened. */
export function openingPosition(snapshot: string): StreamPosition {
  const xmin = snapshot.slice(0, snapshot.indexOf(':'));
  if (!/^\d+$/.test(xmin)) throw new Error(`not a pg_snapshot: ${snapshot}`);
  return { xactId: xmin, id: '', openedAt: snapshot };
}

/** The position right after an event (the one a client resumes after, or the last one sent). */
export function positionAfter(position: StreamPosition | null, row: { xact_id: string; id: string }): StreamPosition {
  return { xactId: row.xact_id, id: row.id, openedAt: position?.openedAt ?? null };
}

/**
 * The condition on outbox rows (table alias `alias`) that a poll may send from `position`, with
 * its parameters numbered from `firstParam`; the query orders by {@link streamOrder}.
 */
export function sendableAfter(alias: string, position: StreamPosition, firstParam: number): { sql: string; params: unknown[] } {
  const p = (i: number) => `$${firstParam + i}`;
  return {
    sql: `(${alias}.xact_id, ${alias}.id) > (${p(0)}::xid8, ${p(1)}::text)
      and ${alias}.xact_id < (select pg_snapshot_xmin(pg_current_snapshot()))
      and (${p(2)}::pg_snapshot is null or not pg_visible_in_snapshot(${alias}.xact_id, ${p(2)}::pg_snapshot))`,
    params: [position.xactId, position.id, position.openedAt],
  };
}

export const streamOrder = (alias: string) => `order by ${alias}.xact_id, ${alias}.id limit ${STREAM_PAGE_SIZE}`;

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
