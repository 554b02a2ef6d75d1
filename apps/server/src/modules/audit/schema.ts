import { index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Append-only record of every money-, governance- and security-relevant action. */
export const auditLog = pgTable(
  'audit_log',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    /** `user` | `api_key` | `partner` | `system` */
    actorKind: text('actor_kind').notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] }), index('audit_log_target_idx').on(t.workspaceId, t.targetType, t.targetId)],
);
