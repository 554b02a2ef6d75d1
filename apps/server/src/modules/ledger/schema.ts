import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/*
 * The hash-chained double-entry journal. One chain per (program, partner) — see
 * docs/decisions/0004-ledger-chain.md. `ledger_postings` repeats each entry's postings as rows so
 * balances are sums over an index; the hash covers the entry's own `postings` JSON.
 */

export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    workspaceId: text('workspace_id').notNull(),
    chain: text('chain').notNull(),
    seq: integer('seq').notNull(),
    id: text('id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    kind: text('kind').notNull(),
    ref: text('ref'),
    currency: text('currency').notNull(),
    postings: jsonb('postings').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.chain, t.seq] }), index('ledger_entries_id_idx').on(t.workspaceId, t.id)],
);

export const ledgerPostings = pgTable(
  'ledger_postings',
  {
    workspaceId: text('workspace_id').notNull(),
    entryId: text('entry_id').notNull(),
    line: integer('line').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    account: text('account').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.entryId, t.line] }), index('ledger_postings_partner_idx').on(t.workspaceId, t.programId, t.partnerId, t.account)],
);

/** The newest entry of each chain: deleting the newest entries is detected against it. */
export const ledgerHeads = pgTable(
  'ledger_heads',
  {
    workspaceId: text('workspace_id').notNull(),
    chain: text('chain').notNull(),
    seq: integer('seq').notNull(),
    hash: text('hash').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.chain] })],
);
