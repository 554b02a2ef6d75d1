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
 * Records a domain event in the outbox inside the caller's transaction and wakes listeners after
 * commit (`pg_notify` is transactional: it is delivered only if the transaction commits).
 */
export async function emitEvent(client: pg.PoolClient, event: DomainEvent): Promise<string> {
  const id = newId('evt');
  // One round trip for both: on a busy machine each statement's socket write costs more than the statement.
  await client.query(
    `with stored as (insert into outbox_events (workspace_id, id, type, data) values ($1, $2, $3, $4) returning id)
     select pg_notify('tandem_events', $5) from stored`,
    [event.workspaceId, id, event.type, JSON.stringify(event.data), JSON.stringify({ workspaceId: event.workspaceId, id, type: event.type })],
  );
  return id;
}
