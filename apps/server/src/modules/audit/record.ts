import type pg from 'pg';
import { newId } from '@tandem/core';
import type { Auth } from '../../http/context.js';

export type AuditActor = { kind: 'user' | 'api_key' | 'partner' | 'system'; id: string | null };

export interface AuditEntry {
  workspaceId: string;
  actor: AuditActor;
  /** Dotted verb, e.g. `program.rules_changed`, `api_key.revoked`, `enrollment.approved`. */
  action: string;
  target?: { type: string; id: string };
  before?: unknown;
  after?: unknown;
}

/** The actor of an authenticated request. */
export function actorOf(auth: Auth | null): AuditActor {
  if (!auth) return { kind: 'system', id: null };
  return auth.kind === 'api_key' ? { kind: 'api_key', id: auth.keyId } : { kind: 'user', id: auth.userId };
}

/** Appends an audit entry, inside the caller's transaction when given its client. */
export async function recordAudit(client: pg.PoolClient | pg.Pool, entry: AuditEntry): Promise<void> {
  await client.query(
    `insert into audit_log (workspace_id, id, actor_kind, actor_id, action, target_type, target_id, before, after)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      entry.workspaceId,
      newId('aud'),
      entry.actor.kind,
      entry.actor.id,
      entry.action,
      entry.target?.type ?? null,
      entry.target?.id ?? null,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
    ],
  );
}
