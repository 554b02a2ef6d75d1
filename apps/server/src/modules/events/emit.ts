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
  await client.query('insert into outbox_events (workspace_id, id, type, data) values ($1, $2, $3, $4)', [event.workspaceId, id, event.type, JSON.stringify(event.data)]);
  await client.query(`select pg_notify('tandem_events', $1)`, [JSON.stringify({ workspaceId: event.workspaceId, id, type: event.type })]);
  return id;
}
