import type pg from 'pg';
import type { EventType } from '@tandem/contracts';
import { newId } from '@tandem/core';
import { wakeAfterCommit } from '../../db/tx.js';

/** Event types Tandem emits (webhooks subscribe to these or to `*`); payloads in contracts/events.ts. */
export { EVENT_TYPES, type EventType } from '@tandem/contracts';

/** Listeners on this channel are woken (an empty notification) after a transaction that stored events commits. */
export const EVENTS_CHANNEL = 'tandem_events';

export interface DomainEvent {
  workspaceId: string;
  type: EventType;
  data: Record<string, unknown>;
}

/**
 * The outbox insert as a data-modifying CTE named `stored_event`, for callers that fold the event
 * into a statement of their own (one round trip instead of two). Its parameters are numbered from
 * `firstParam`. The caller's statement must return `STORED_EVENT_UNDISPATCHED` and hand its row to
 * `wakeIfUndispatched`, inside a `withTransaction` transaction.
 */
export function outboxEventCte(event: DomainEvent, firstParam: number): { id: string; cte: string; params: unknown[] } {
  const { id, sql, params } = outboxEventInsert(event, firstParam);
  return { id, cte: `stored_event as (${sql} returning id, webhooks_dispatched_at is null as undispatched)`, params };
}

/**
 * The outbox insert alone (parameters from `firstParam`), for a statement that stores several
 * events: a workspace's events are all dispatched or all not, so the one `stored_event` of the
 * statement tells whether to wake the dispatcher for every one of them.
 */
export function outboxEventInsert(event: DomainEvent, firstParam: number): { id: string; sql: string; params: unknown[] } {
  const id = newId('evt');
  const p = (i: number) => `$${firstParam + i}`;
  return {
    id,
    // A workspace without an enabled webhook endpoint has nobody to dispatch to: its events are
    // stored as dispatched already, so they never enter the dispatcher's work list and are not
    // written a second time to be marked (decision 0013). An endpoint receives the events written
    // after it exists (an event written in the same instant as the endpoint may be missed).
    sql: `insert into outbox_events (workspace_id, id, type, data, webhooks_dispatched_at)
      values (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)},
              case when exists (select 1 from webhook_endpoints w where w.workspace_id = ${p(0)} and w.enabled) then null else now() end)`,
    params: [event.workspaceId, id, event.type, JSON.stringify(event.data)],
  };
}

/** What a statement carrying `outboxEventCte` selects, for `wakeIfUndispatched`. */
export const STORED_EVENT_UNDISPATCHED = '(select undispatched from stored_event) as undispatched';

/**
 * Wakes the webhook dispatcher after commit when the stored event waits for it (its workspace has
 * an enabled endpoint); an event stored as already dispatched needs no wake-up.
 */
export function wakeIfUndispatched(client: pg.PoolClient, row: { undispatched?: boolean | null } | undefined): void {
  if (row?.undispatched) wakeAfterCommit(client, EVENTS_CHANNEL);
}

/**
 * Records a domain event in the outbox inside the caller's transaction (a `withTransaction` one);
 * listeners are woken after it commits, never for a rollback.
 */
export async function emitEvent(client: pg.PoolClient, event: DomainEvent): Promise<string> {
  const { id, cte, params } = outboxEventCte(event, 1);
  const { rows } = await client.query<{ undispatched: boolean }>(`with ${cte} select ${STORED_EVENT_UNDISPATCHED}`, params);
  wakeIfUndispatched(client, rows[0]);
  return id;
}
