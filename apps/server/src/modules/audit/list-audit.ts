import type pg from 'pg';
import type { AuditFilters } from '@tandem/contracts';

export interface AuditRow {
  id: string;
  actor_kind: 'user' | 'api_key' | 'partner' | 'system';
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  before: unknown;
  after: unknown;
  created_at: Date;
}

export function auditEntryView(row: AuditRow) {
  return {
    id: row.id,
    actor: { kind: row.actor_kind, id: row.actor_id },
    action: row.action,
    target: row.target_type && row.target_id ? { type: row.target_type, id: row.target_id } : null,
    before: row.before ?? null,
    after: row.after ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * One page of a workspace's audit trail. `direction` picks newest-first pages (the API) or
 * oldest-first batches (the CSV export); `after` is the last id of the previous page.
 */
export async function queryAudit(
  db: pg.Pool | pg.PoolClient,
  workspaceId: string,
  filters: AuditFilters,
  page: { after: string | null; limit: number; direction: 'newest' | 'oldest' },
): Promise<AuditRow[]> {
  const newest = page.direction === 'newest';
  const { rows } = await db.query<AuditRow>(
    `select id, actor_kind, actor_id, action, target_type, target_id, before, after, created_at
       from audit_log
      where workspace_id = $1
        and ($2::text is null or (case when right($2, 1) = '.' then left(action, length($2)) = $2 else action = $2 end))
        and ($3::text is null or actor_kind = $3)
        and ($4::text is null or actor_id = $4)
        and ($5::text is null or target_type = $5)
        and ($6::text is null or target_id = $6)
        and ($7::timestamptz is null or created_at >= $7)
        and ($8::timestamptz is null or created_at < $8)
        and ($9::text is null or id ${newest ? '<' : '>'} $9)
      order by id ${newest ? 'desc' : 'asc'}
      limit $10`,
    [
      workspaceId,
      filters.action ?? null,
      filters.actorKind ?? null,
      filters.actorId ?? null,
      filters.targetType ?? null,
      filters.targetId ?? null,
      filters.from ?? null,
      filters.to ?? null,
      page.after,
      page.limit,
    ],
  );
  return rows;
}
