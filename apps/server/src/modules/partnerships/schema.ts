import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * A reciprocal partnership between brands (two, or a coalition of N). Led by the workspace that
 * started it; every member reads it through its own `partnership_members` row.
 */
export const partnerships = pgTable(
  'partnerships',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    message: text('message'),
    /** `{targeting?, messagingGuidelines?, metrics?, reciprocityTargetPct?}` shared by every member. */
    agreement: jsonb('agreement').notNull().default({}),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] })],
);

/** One row per member brand, led by the member's workspace so each member finds its partnerships. */
export const partnershipMembers = pgTable(
  'partnership_members',
  {
    workspaceId: text('workspace_id').notNull(),
    partnershipId: text('partnership_id').notNull(),
    /** The workspace leading the partnership row. */
    ownerWorkspaceId: text('owner_workspace_id').notNull(),
    status: text('status', { enum: ['invited', 'active', 'declined'] }).notNull(),
    /** The member's own program, in which the other members become partners. */
    programId: text('program_id'),
    invitedBy: text('invited_by'),
    invitedAt: timestamp('invited_at', { withTimezone: true }).notNull().defaultNow(),
    joinedAt: timestamp('joined_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.partnershipId] }), index('partnership_members_partnership_idx').on(t.ownerWorkspaceId, t.partnershipId)],
);

/**
 * A read-only link to a partnership's shared dashboard, made by one member workspace. Only the
 * SHA-256 of the token is stored (the token is shown once); the public lookup is by that hash.
 */
export const partnershipShareLinks = pgTable(
  'partnership_share_links',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    partnershipId: text('partnership_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    uniqueIndex('partnership_share_links_token_key').on(t.tokenHash),
    index('partnership_share_links_partnership_idx').on(t.workspaceId, t.partnershipId),
  ],
);

/**
 * A settlement by netting between two member brands in one currency (decision 0012). Written once
 * per member workspace under the same id, so each brand reads its own copy. `a` is the member with
 * the smaller workspace id; `a_owes_b` is what a's program owed b's brand (its payable commissions).
 */
export const partnershipSettlements = pgTable(
  'partnership_settlements',
  {
    workspaceId: text('workspace_id').notNull(),
    id: text('id').notNull(),
    partnershipId: text('partnership_id').notNull(),
    aWorkspaceId: text('a_workspace_id').notNull(),
    bWorkspaceId: text('b_workspace_id').notNull(),
    currency: text('currency').notNull(),
    aOwesB: bigint('a_owes_b', { mode: 'number' }).notNull(),
    bOwesA: bigint('b_owes_a', { mode: 'number' }).notNull(),
    /** Settled on both sides without cash: min(a_owes_b, b_owes_a). */
    offsetAmount: bigint('offset_amount', { mode: 'number' }).notNull(),
    /** The brand paying the difference; null when the sides were even. */
    netPayerWorkspaceId: text('net_payer_workspace_id'),
    netAmount: bigint('net_amount', { mode: 'number' }).notNull(),
    /** The first payout of the difference, in the payer's workspace (`net_payout_ids[1]`, for older readers). */
    netPayoutId: text('net_payout_id'),
    /**
     * Every payout of the difference, in the payer's workspace: one per partner row the paying brand
     * has in the other's program (a brand enrolled by two emails is two rows, each paid on its own).
     */
    netPayoutIds: text('net_payout_ids').array().notNull().default(sql`'{}'::text[]`),
    settledByWorkspaceId: text('settled_by_workspace_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.id] }), index('partnership_settlements_partnership_idx').on(t.workspaceId, t.partnershipId, t.id)],
);

/**
 * How much of each commission a settlement offset (the commission's own workspace). A commission
 * whose whole amount is offset is `paid`; one offset in part stays payable for the rest, and payouts
 * subtract these rows from what it still owes.
 */
export const partnershipSettlementOffsets = pgTable(
  'partnership_settlement_offsets',
  {
    workspaceId: text('workspace_id').notNull(),
    settlementId: text('settlement_id').notNull(),
    commissionId: text('commission_id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.settlementId, t.commissionId] }), index('partnership_settlement_offsets_commission_idx').on(t.workspaceId, t.commissionId)],
);
