import type pg from 'pg';
import { emailDomain, uuidFromClickId, type ConversionFacts, type FraudFacts, type FraudSettings, type PartnerFacts } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { emailHash } from '../tracking/record.js';

/** A conversion that produced a commission, as the fraud checks need to know it. */
export interface ConversionToAssess {
  workspaceId: string;
  programId: string;
  partnerId: string;
  commissionId: string;
  kind: 'lead' | 'sale';
  customerId: string;
  clickId: string | null;
  via: 'click' | 'coupon';
  occurredAt: Date;
  /** The plain email when the conversion carried one (only its domain is used, never stored). */
  customerEmail?: string | null;
}

interface ClickRow {
  link_id: string;
  created_at: Date;
  ip_hash: string | null;
  visitor_hash: string | null;
  paid_click_param: string | null;
}

/** What the partner-scope rules look at: the partner's own identities, its sales and refunds. */
export async function loadPartnerFacts(db: pg.Pool | pg.PoolClient, services: Services, workspaceId: string, partnerId: string, programId: string | null): Promise<PartnerFacts | null> {
  const { rows: partners } = await db.query<{ email: string; user_id: string | null; user_email: string | null }>(
    `select p.email, p.user_id, u.email as user_email from partners p left join users u on u.id = p.user_id
      where p.workspace_id = $1 and p.id = $2`,
    [workspaceId, partnerId],
  );
  const partner = partners[0];
  if (!partner) return null;
  const emails = [...new Set([partner.email, partner.user_email].filter((e): e is string => !!e))];
  const [identities, sharedPayout, sharedLogin, sales] = await Promise.all([
    db.query<{ value_hash: string }>(`select value_hash from partner_identities where workspace_id = $1 and partner_id = $2 and kind = 'ip_hash'`, [workspaceId, partnerId]),
    db.query<{ partner_id: string }>(
      `select distinct other.partner_id from partner_identities mine
         join partner_identities other on other.workspace_id = mine.workspace_id and other.kind = 'payout' and other.value_hash = mine.value_hash and other.partner_id <> mine.partner_id
        where mine.workspace_id = $1 and mine.partner_id = $2 and mine.kind = 'payout'`,
      [workspaceId, partnerId],
    ),
    partner.user_id
      ? db.query<{ id: string }>('select id from partners where workspace_id = $1 and user_id = $2 and id <> $3', [workspaceId, partner.user_id, partnerId])
      : Promise.resolve({ rows: [] as { id: string }[] }),
    db.query<{ sales: string; refunded: string }>(
      `select count(*) as sales, count(*) filter (where refunded_amount > 0) as refunded from sales
        where workspace_id = $1 and partner_id = $2 and ($3::text is null or program_id = $3)`,
      [workspaceId, partnerId, programId],
    ),
  ]);
  return {
    id: partnerId,
    emailHashes: emails.map((e) => emailHash(services, workspaceId, e)),
    ipHashes: identities.rows.map((r) => r.value_hash),
    partnersSharingPayout: sharedPayout.rows.map((r) => r.partner_id),
    partnersSharingLogin: sharedLogin.rows.map((r) => r.id),
    sales: Number(sales.rows[0]?.sales ?? 0),
    refundedSales: Number(sales.rows[0]?.refunded ?? 0),
  };
}

/**
 * Assembles the facts for one conversion from the click that attributed it, the program's recent
 * clicks and conversions, and the partner. Counts use the windows of the program's settings.
 */
export async function assembleConversionFacts(client: pg.PoolClient, services: Services, conversion: ConversionToAssess, settings: FraudSettings): Promise<FraudFacts | null> {
  const { workspaceId, programId, partnerId } = conversion;
  const partner = await loadPartnerFacts(client, services, workspaceId, partnerId, programId);
  if (!partner) return null;

  const clickUuid = conversion.clickId ? uuidFromClickId(conversion.clickId) : null;
  const click = clickUuid
    ? (await client.query<ClickRow>('select link_id, created_at, ip_hash, visitor_hash, paid_click_param from clicks where workspace_id = $1 and id = $2', [workspaceId, clickUuid])).rows[0] ?? null
    : null;
  const { rows: customers } = await client.query<{ email_hash: string | null }>('select email_hash from customers where workspace_id = $1 and id = $2', [workspaceId, conversion.customerId]);

  const facts: ConversionFacts = {
    kind: conversion.kind,
    customerEmailHash: customers[0]?.email_hash ?? null,
    customerEmailDomain: conversion.customerEmail ? emailDomain(conversion.customerEmail) : null,
    ipHash: click?.ip_hash ?? null,
    deviceHash: click?.visitor_hash ?? null,
    hasClick: click !== null,
    hasCoupon: conversion.via === 'coupon',
    clickToConversionSeconds: click ? Math.max(0, Math.floor((conversion.occurredAt.getTime() - click.created_at.getTime()) / 1000)) : null,
    paidClickParam: click?.paid_click_param ?? null,
  };
  if (!click) return { conversion: facts, partner };

  // Velocity: the partner's clicks in the window ending at this conversion's click (index on partner + time).
  const velocityWindow = settings.rules.click_velocity.windowMinutes * 60_000;
  const { rows: velocity } = await client.query<{ from_ip: string; on_link: string }>(
    `select count(*) filter (where ip_hash = $4) as from_ip, count(*) filter (where link_id = $5) as on_link from clicks
      where workspace_id = $1 and partner_id = $2 and created_at > $3 and created_at <= $6`,
    [workspaceId, partnerId, new Date(click.created_at.getTime() - velocityWindow), click.ip_hash, click.link_id, click.created_at],
  );

  // Duplicate identities: distinct customers of the program converting through clicks from the same IP / device.
  const identityWindow = settings.rules.duplicate_identity.windowHours * 3600_000;
  const { rows: identity } = await client.query<{ by_ip: string; by_device: string }>(
    `with conversions as (
       select customer_id, click_id from leads where workspace_id = $1 and program_id = $2 and occurred_at > $3 and click_id is not null
       union all
       select customer_id, click_id from sales where workspace_id = $1 and program_id = $2 and occurred_at > $3 and click_id is not null
       union all
       -- This conversion itself: tracking writes its attribution to the row only after the hooks.
       select $6::text, $7::text)
     select count(distinct c.customer_id) filter (where k.ip_hash = $4) as by_ip,
            count(distinct c.customer_id) filter (where k.visitor_hash = $5) as by_device
       from conversions c join clicks k on k.workspace_id = $1 and k.id = substr(c.click_id, 5)::uuid`,
    [workspaceId, programId, new Date(conversion.occurredAt.getTime() - identityWindow), click.ip_hash, click.visitor_hash, conversion.customerId, conversion.clickId],
  );

  return {
    conversion: facts,
    partner,
    velocity: { clicksFromIp: Number(velocity[0]?.from_ip ?? 0), clicksOnLink: Number(velocity[0]?.on_link ?? 0) },
    identity: { customersSharingIp: Number(identity[0]?.by_ip ?? 0), customersSharingDevice: Number(identity[0]?.by_device ?? 0) },
  };
}
