import { boolean, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** A trackable short link. `key` is globally unique because `/r/:key` carries no workspace. */
export const links = pgTable(
  'links',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    key: text('key').notNull(),
    destinationUrl: text('destination_url').notNull(),
    utm: jsonb('utm'),
    isDefault: boolean('is_default').notNull().default(false),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex('links_key_key').on(t.key),
    index('links_partner_idx').on(t.workspaceId, t.programId, t.partnerId),
  ],
);
