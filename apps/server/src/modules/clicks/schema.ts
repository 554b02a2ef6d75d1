import { index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Raw clicks, written in batches off the request path. Compact on purpose (tens of millions of
 * rows): no raw IP — only keyed hashes — and dashboards read `click_rollups`, never this table.
 * The public click id is `clk_` + the hex of `id` (a UUIDv7, so its time is in the id).
 */
export const clicks = pgTable(
  'clicks',
  {
    workspaceId: text('workspace_id').notNull(),
    id: uuid('id').notNull(),
    linkId: text('link_id').notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /** Keyed hash of the visitor (IP + user agent) with a daily salt: dedupe and fraud checks only. */
    visitorHash: text('visitor_hash'),
    /** Keyed hash of the IP with a daily salt. */
    ipHash: text('ip_hash'),
    country: text('country'),
    device: text('device'),
    browser: text('browser'),
    os: text('os'),
    referrerHost: text('referrer_host'),
    /** Name of a paid-ad click parameter present on the landing (gclid, fbclid, msclkid, …). */
    paidClickParam: text('paid_click_param'),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.id] }),
    // Clicks arrive in time order, so a BRIN index (a few pages for millions of rows, almost free to
    // maintain on the redirect's batch inserts) serves time-range scans such as retention.
    index('clicks_created_idx').using('brin', t.createdAt),
    index('clicks_partner_idx').on(t.workspaceId, t.partnerId, t.createdAt),
  ],
);

/** Clicks per link per hour, maintained with each batch so dashboards never scan raw clicks. */
export const clickRollups = pgTable(
  'click_rollups',
  {
    workspaceId: text('workspace_id').notNull(),
    linkId: text('link_id').notNull(),
    hour: timestamp('hour', { withTimezone: true }).notNull(),
    programId: text('program_id').notNull(),
    partnerId: text('partner_id').notNull(),
    clicks: integer('clicks').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.linkId, t.hour] }), index('click_rollups_partner_idx').on(t.workspaceId, t.partnerId, t.hour)],
);
