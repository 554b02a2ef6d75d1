import type pg from 'pg';
import { emailDomain, uuidFromClickId, type ConversionFacts, type FraudFacts, type FraudSettings, type FraudSettingsOverrides, type PartnerFacts } from '@tandem/core';
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
  /** The customer's stored email hash (read with the partner's facts). */
  customerEmailHash: string | null;
}

interface ClickRow {
  link_id: string;
  created_at: Date;
  ip_hash: string | null;
  visitor_hash: string | null;
  paid_click_param: string | null;
}

/** What the conversion path reads with the partner's facts (see {@link loadPartnerFacts}). */
export interface ConversionContext {
  /** The program's fraud setting overrides, or null for the defaults. */
  fraudOverrides: FraudSettingsOverrides | null;
  /** The customer's stored email hash, or null. */
  customerEmailHash: string | null;
  /** Whether the commission already has an assessment (it is then not scored again). */
  assessed: boolean;
}

/** The row `partnerFactsQuery` selects. */
export interface PartnerFactsRow {
  email: string;
  user_email: string | null;
  ip_hashes: string[];
  sharing_payout: string[];
  sharing_login: string[];
  sales: number;
  refunded: number;
  fraud_overrides: FraudSettingsOverrides | null;
  customer_email_hash: string | null;
  assessed: boolean;
}

/**
 * The partner's facts as one SELECT with parameters numbered from `firstParam`: its identities,
 * its sales and refunds, and — with `conversion` — what scoring a new commission needs (the
 * program's fraud settings, the customer's email hash, whether the commission was scored before).
 */
export function partnerFactsQuery(
  workspaceId: string,
  partnerId: string,
  programId: string | null,
  conversion: { customerId: string; commissionId: string | null } | undefined,
  firstParam: number,
): { sql: string; params: unknown[] } {
  const [ws, partner, program, customer, commission] = [0, 1, 2, 3, 4].map((i) => `$${firstParam + i}`);
  return {
    sql: `select p.email, u.email as user_email,
            array(select value_hash from partner_identities
                   where workspace_id = ${ws} and partner_id = ${partner} and kind = 'ip_hash') as ip_hashes,
            array(select distinct other.partner_id from partner_identities mine
                    join partner_identities other on other.workspace_id = mine.workspace_id and other.kind = 'payout'
                     and other.value_hash = mine.value_hash and other.partner_id <> mine.partner_id
                   where mine.workspace_id = ${ws} and mine.partner_id = ${partner} and mine.kind = 'payout') as sharing_payout,
            array(select o.id from partners o
                   where o.workspace_id = ${ws} and p.user_id is not null and o.user_id = p.user_id and o.id <> ${partner}) as sharing_login,
            s.sales::int as sales, s.refunded::int as refunded,
            (select f.overrides from fraud_settings f where f.workspace_id = ${ws} and f.program_id = ${program}::text) as fraud_overrides,
            (select cu.email_hash from customers cu where cu.workspace_id = ${ws} and cu.id = ${customer}::text) as customer_email_hash,
            exists (select 1 from fraud_assessments a where a.workspace_id = ${ws} and a.commission_id = ${commission}::text) as assessed
       from partners p
       left join users u on u.id = p.user_id
       cross join lateral (
         -- Counted by a trigger on sales (tracking/schema.ts): constant work however long P's history.
         select coalesce(sum(c.sales), 0) as sales, coalesce(sum(c.refunded_sales), 0) as refunded from partner_sale_counts c
          where c.workspace_id = ${ws} and c.partner_id = ${partner} and (${program}::text is null or c.program_id = ${program}::text)) s
      where p.workspace_id = ${ws} and p.id = ${partner}`,
    params: [workspaceId, partnerId, programId, conversion?.customerId ?? null, conversion?.commissionId ?? null],
  };
}

/** Turns the row of `partnerFactsQuery` (or its JSON) into the partner's facts and the conversion's context. */
export function partnerFactsFrom(services: Services, workspaceId: string, partnerId: string, row: PartnerFactsRow): { facts: PartnerFacts; context: ConversionContext } {
  const emails = [...new Set([row.email, row.user_email].filter((e): e is string => !!e))];
  return {
    facts: {
      id: partnerId,
      emailHashes: emails.map((e) => emailHash(services, workspaceId, e)),
      ipHashes: row.ip_hashes,
      partnersSharingPayout: row.sharing_payout,
      partnersSharingLogin: row.sharing_login,
      sales: Number(row.sales),
      refundedSales: Number(row.refunded),
    },
    context: { fraudOverrides: row.fraud_overrides, customerEmailHash: row.customer_email_hash, assessed: row.assessed },
  };
}

/**
 * What the partner-scope rules look at: the partner's own identities, its sales and refunds. With
 * `conversion`, the same round trip also reads what scoring a new commission needs — on a busy
 * machine each statement's socket write costs more than the statement (and one client must not run
 * queries concurrently), and this runs inside every attributed conversion.
 */
export async function loadPartnerFacts(
  db: pg.Pool | pg.PoolClient,
  services: Services,
  workspaceId: string,
  partnerId: string,
  programId: string | null,
  conversion?: { customerId: string; commissionId: string },
): Promise<{ facts: PartnerFacts; context: ConversionContext } | null> {
  const { sql, params } = partnerFactsQuery(workspaceId, partnerId, programId, conversion, 1);
  const { rows } = await db.query<PartnerFactsRow>(sql, params);
  return rows[0] ? partnerFactsFrom(services, workspaceId, partnerId, rows[0]) : null;
}

/**
 * Assembles the facts for one conversion from the click that attributed it, the program's recent
 * clicks and conversions, and the partner. Counts use the windows of the program's settings.
 */
export async function assembleConversionFacts(client: pg.PoolClient, conversion: ConversionToAssess, settings: FraudSettings, partner: PartnerFacts): Promise<FraudFacts> {
  const { workspaceId, programId, partnerId } = conversion;

  const clickUuid = conversion.clickId ? uuidFromClickId(conversion.clickId) : null;
  const click = clickUuid
    ? (await client.query<ClickRow>('select link_id, created_at, ip_hash, visitor_hash, paid_click_param from clicks where workspace_id = $1 and id = $2', [workspaceId, clickUuid])).rows[0] ?? null
    : null;
  const facts: ConversionFacts = {
    kind: conversion.kind,
    customerEmailHash: conversion.customerEmailHash,
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
