import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { newId } from '@tandem/core';
import { hashToken, randomToken } from '../../security/crypto.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { partnershipBalance } from './balance.js';
import { loadPartnership, membersOf } from './partnerships.js';

type Db = pg.PoolClient | pg.Pool;

const DAY_MS = 86_400_000;
/** The shared dashboard's daily series covers this many UTC days, today included. */
export const DASHBOARD_DAYS = 30;

/** Only a brand that joined may publish the figures of a partnership. */
async function requireActiveMember(db: Db, workspaceId: string, partnershipId: string): Promise<void> {
  const partnership = await loadPartnership(db, workspaceId, partnershipId);
  const me = partnership.members.find((m) => m.workspaceId === workspaceId);
  if (me?.status !== 'active') throw new ApiError('forbidden', 'Only brands that joined the partnership can share its dashboard');
}

export async function createShareLink(
  client: pg.PoolClient,
  input: { workspaceId: string; partnershipId: string; expiresInDays: number; actor: AuditActor; now: Date },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  await requireActiveMember(client, input.workspaceId, input.partnershipId);
  const id = newId('psl');
  const token = randomToken();
  const expiresAt = new Date(input.now.getTime() + input.expiresInDays * DAY_MS);
  await client.query(
    'insert into partnership_share_links (workspace_id, id, partnership_id, token_hash, created_by, created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7)',
    [input.workspaceId, id, input.partnershipId, hashToken(token), input.actor.id, input.now, expiresAt],
  );
  await recordAudit(client, { workspaceId: input.workspaceId, actor: input.actor, action: 'partnership.share_link_created', target: { type: 'partnership', id: input.partnershipId }, after: { shareLinkId: id, expiresAt: expiresAt.toISOString() } });
  return { id, token, expiresAt };
}

export async function listShareLinks(db: Db, workspaceId: string, partnershipId: string) {
  await loadPartnership(db, workspaceId, partnershipId);
  const { rows } = await db.query<{ id: string; expires_at: Date; revoked_at: Date | null; created_at: Date }>(
    'select id, expires_at, revoked_at, created_at from partnership_share_links where workspace_id = $1 and partnership_id = $2 order by id desc',
    [workspaceId, partnershipId],
  );
  return rows.map((r) => ({ id: r.id, expiresAt: r.expires_at.toISOString(), revokedAt: r.revoked_at?.toISOString() ?? null, createdAt: r.created_at.toISOString() }));
}

/** Revokes a link this workspace made (idempotent); anyone else's link is not found. */
export async function revokeShareLink(client: pg.PoolClient, input: { workspaceId: string; partnershipId: string; linkId: string; actor: AuditActor; now: Date }): Promise<void> {
  const { rows } = await client.query<{ revoked_at: Date | null }>(
    'select revoked_at from partnership_share_links where workspace_id = $1 and partnership_id = $2 and id = $3 for update',
    [input.workspaceId, input.partnershipId, input.linkId],
  );
  if (!rows[0]) throw new ApiError('not_found', 'Share link not found');
  if (rows[0].revoked_at) return;
  await client.query('update partnership_share_links set revoked_at = $3 where workspace_id = $1 and id = $2', [input.workspaceId, input.linkId, input.now]);
  await recordAudit(client, { workspaceId: input.workspaceId, actor: input.actor, action: 'partnership.share_link_revoked', target: { type: 'partnership', id: input.partnershipId }, after: { shareLinkId: input.linkId } });
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Clicks (from `click_rollups`) and sales and revenue net of refunds (from `conversion_rollups`)
 * per UTC day for one direction: the guest brand's partner rows promoting the host's program.
 */
async function directionSeries(db: Db, host: { workspaceId: string; programId: string }, guestWorkspaceId: string, days: string[]) {
  const from = days[0]!;
  const to = days[days.length - 1]!;
  const { rows: clicks } = await db.query<{ day: string; clicks: number }>(
    `select to_char(r.hour at time zone 'UTC', 'YYYY-MM-DD') as day, sum(r.clicks)::int as clicks
       from partners p
       join click_rollups r on r.workspace_id = p.workspace_id and r.partner_id = p.id
      where p.workspace_id = $1 and p.partner_workspace_id = $2 and r.program_id = $3
        and r.hour >= ($4::date)::timestamp at time zone 'UTC' and r.hour < ($5::date + 1)::timestamp at time zone 'UTC'
      group by 1`,
    [host.workspaceId, guestWorkspaceId, host.programId, from, to],
  );
  const { rows: conversions } = await db.query<{ day: string; sales: number; revenue: string }>(
    `select to_char(c.day, 'YYYY-MM-DD') as day, sum(c.sales)::int as sales, sum(c.revenue - c.refunded_amount)::text as revenue
       from partners p
       join conversion_rollups c on c.workspace_id = p.workspace_id and c.program_id = $3 and c.partner_id = p.id
      where p.workspace_id = $1 and p.partner_workspace_id = $2 and c.day between $4::date and $5::date and c.currency <> ''
      group by 1`,
    [host.workspaceId, guestWorkspaceId, host.programId, from, to],
  );
  return days.map((date) => {
    const conversion = conversions.find((c) => c.day === date);
    return { date, clicks: clicks.find((c) => c.day === date)?.clicks ?? 0, sales: conversion?.sales ?? 0, revenue: Number(conversion?.revenue ?? 0) };
  });
}

/**
 * What a share link shows: the same balance every member sees (both directions and the net) and
 * a daily series per direction. Brand names only — no partner emails, no customers.
 */
export async function sharedDashboard(db: Db, token: string, now: Date) {
  const { rows } = await db.query<{ workspace_id: string; partnership_id: string; expires_at: Date; revoked_at: Date | null }>(
    'select workspace_id, partnership_id, expires_at, revoked_at from partnership_share_links where token_hash = $1',
    [hashToken(token)],
  );
  const link = rows[0];
  // One answer for unknown, revoked and expired tokens: a link must not reveal that it once worked.
  if (!link || link.revoked_at || link.expires_at.getTime() <= now.getTime()) throw new ApiError('not_found', 'This share link does not exist, was revoked or has expired');
  const balance = await partnershipBalance(db, link.workspace_id, link.partnership_id);
  const partnership = await loadPartnership(db, link.workspace_id, link.partnership_id);
  const active = (await membersOf(db, partnership.createdByWorkspaceId, link.partnership_id)).filter((m) => m.status === 'active' && m.program_id);
  const days = Array.from({ length: DASHBOARD_DAYS }, (_, i) => isoDay(new Date(now.getTime() - (DASHBOARD_DAYS - 1 - i) * DAY_MS)));
  const series = [];
  for (const d of balance.directions) {
    const host = active.find((m) => m.workspace_id === d.toWorkspaceId)!;
    series.push({ fromWorkspaceId: d.fromWorkspaceId, toWorkspaceId: d.toWorkspaceId, currency: d.currency, points: await directionSeries(db, { workspaceId: host.workspace_id, programId: host.program_id! }, d.fromWorkspaceId, days) });
  }
  return {
    partnershipId: link.partnership_id,
    members: active.map((m) => ({ workspaceId: m.workspace_id, name: m.name })),
    directions: balance.directions,
    net: balance.net,
    nets: balance.nets,
    series,
    expiresAt: link.expires_at.toISOString(),
  };
}
