import type pg from 'pg';
import type { EventType } from '@tandem/contracts';
import { newId } from '@tandem/core';

/** Event types Tandem emits (webhooks subscribe to these or to `*`); payloads in contracts/events.ts. */
export { EVENT_TYPES, type EventType } from '@tandem/contracts';

export interface DomainEvent {
  workspaceId: string;
  type: EventType;
  data: Record<string, unknown>;
}

/**
 * The outbox insert as a data-modifying CTE named `stored_event`, for callers that fold the event
 * into a statement of their own (one round trip instead of two). Its parameters are numbered from
 * `firstParam`; the caller must end its statement with `notifySql` so listeners are woken.
 */
export function outboxEventCte(event: DomainEvent, firstParam: number): { id: string; cte: string; notifySql: string; params: unknown[] } {
  const id = newId('evt');
  const p = (i: number) => `$${firstParam + i}`;
  return {
    id,
    cte: `stored_event as (insert into outbox_events (workspace_id, id, type, data) values (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}) returning id)`,
    notifySql: `select pg_notify('tandem_events', ${p(4)}) from stored_event`,
    params: [event.workspaceId, id, event.type, JSON.stringify(event.data), JSON.stringify({ workspaceId: event.workspaceId, id, type: event.type })],
  };
}

/**
 * Records a domain event in the outbox inside the caller's transaction and wakes listeners after
 * commit (`pg_notify` is transactional: it is delivered only if the transaction commits).
 */
export async function emitEvent(client: pg.PoolClient, event: DomainEvent): Promise<string> {
  // One round trip for both: on a busy machine each statement's socket write costs more than the statement.
  const { id, cte, notifySql, params } = outboxEventCte(event, 1);
  await client.query(`with ${cte} ${notifySql}`, params);
  return id;
}
