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
 * `firstParam`. `client` must be in a `withTransaction` transaction: its commit wakes the listeners.
 */
export function outboxEventCte(client: pg.PoolClient, event: DomainEvent, firstParam: number): { id: string; cte: string; params: unknown[] } {
  const id = newId('evt');
  const p = (i: number) => `$${firstParam + i}`;
  wakeAfterCommit(client, EVENTS_CHANNEL);
  return {
    id,
    // A workspace without an enabled webhook endpoint has nobody to dispatch to: its events are
    // stored as dispatched already, so they never enter the dispatcher's work list and are not
    // written a second time to be marked (decision 0013). An endpoint receives the events written
    // after it exists (an event written in the same instant as the endpoint may be missed).
    cte: `stored_event as (insert into outbox_events (workspace_id, id, type, data, webhooks_dispatched_at)
      values (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)},
              case when exists (select 1 from webhook_endpoints w where w.workspace_id = ${p(0)} and w.enabled) then null else now() end)
      returning id)`,
    params: [event.workspaceId, id, event.type, JSON.stringify(event.data)],
  };
}

/**
 * Records a domain event in the outbox inside the caller's transaction (a `withTransaction` one);
 * listeners are woken after it commits, never for a rollback.
 */
export async function emitEvent(client: pg.PoolClient, event: DomainEvent): Promise<string> {
  const { id, cte, params } = outboxEventCte(client, event, 1);
  await client.query(`with ${cte} select id from stored_event`, params);
  return id;
}
