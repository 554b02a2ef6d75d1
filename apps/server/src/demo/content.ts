import type { FastifyInstance } from 'fastify';
import { DAY_MS, clickIdFromUuid, newId, uuidv7 } from '@tandem/core';
import type { Services } from '../http/context.js';
import { hashPassword } from '../security/crypto.js';
import { anonymous, withApiKey, withSession, type Caller, type Json } from './api.js';
import { seededRandom, type Random } from './random.js';
import { simulateTraffic, type Conversion, type SimulatedClick, type TrafficSource } from './traffic.js';

/*
 * The believable demo (issue 7): Northwind Coffee runs a creator program (tiers, bonuses, a boost
 * for `launch` partners, a customer reward, council approval) with ~20 partners, and is in a
 * reciprocal partnership with Bluebird Bakery; 90 days of clicks, leads, sales and refunds; a
 * payout batch with one payout paid, a held self-referral, an open dispute and an application
 * waiting for the council. Everything that has an endpoint goes through it; only the past clicks
 * (which the redirect records at "now") are written as rows.
 */

export const DEMO_PASSWORD = 'tandem-demo-password';
export const BAKERY_EMAIL = 'bakery@tandem.local';
export const BAKERY_WORKSPACE = 'Bluebird Bakery';
export const CREATOR_EMAIL = 'creator@tandem.local';
export const NORTHWIND_PROGRAM_SLUG = 'northwind-creators';
export const BAKERY_PROGRAM_SLUG = 'bluebird-friends';

const SEED = 20_261_121;
const HISTORY_DAYS = 90;

interface PartnerSpec {
  name: string;
  email: string;
  tags: string[];
  /** Relative reach: clicks a day at the end of the period. */
  dailyClicks: number;
  website?: string;
}

/** Twenty partners with different reach, so the leaderboards and tiers show a spread. */
const PARTNERS: PartnerSpec[] = [
  { name: 'Casey Creator', email: CREATOR_EMAIL, tags: ['creator', 'launch'], dailyClicks: 14, website: 'https://casey.example' },
  {
    name: 'Morning Brew Blog',
    email: 'hello@morningbrew-blog.example',
    tags: ['blogger'],
    dailyClicks: 11,
    website: 'https://morningbrew-blog.example',
  },
  { name: 'Latte Art Lena', email: 'lena@latteart.example', tags: ['creator'], dailyClicks: 9 },
  { name: 'The Bean Review', email: 'editor@beanreview.example', tags: ['blogger'], dailyClicks: 8 },
  { name: 'Corner Bookshop', email: 'owner@cornerbooks.example', tags: ['local'], dailyClicks: 3 },
  { name: 'Pour Over Pete', email: 'pete@pourover.example', tags: ['creator', 'launch'], dailyClicks: 7 },
  { name: 'Roast Nerds Podcast', email: 'team@roastnerds.example', tags: ['creator'], dailyClicks: 6 },
  { name: 'Cycle Café Club', email: 'club@cyclecafe.example', tags: ['local'], dailyClicks: 2.5 },
  { name: 'Home Barista Weekly', email: 'weekly@homebarista.example', tags: ['blogger'], dailyClicks: 5 },
  { name: 'Sam Quick', email: 'sam.quick@partners.example', tags: ['creator'], dailyClicks: 2 },
  { name: 'Yoga Loft', email: 'studio@yogaloft.example', tags: ['local'], dailyClicks: 2 },
  { name: 'Bright Mornings', email: 'hi@brightmornings.example', tags: ['blogger', 'launch'], dailyClicks: 4 },
  { name: 'Crema Chronicles', email: 'crema@chronicles.example', tags: ['blogger'], dailyClicks: 3.5 },
  { name: 'Desk Setup Dan', email: 'dan@desksetup.example', tags: ['creator'], dailyClicks: 4.5 },
  { name: 'Farmers Market Co-op', email: 'coop@farmersmarket.example', tags: ['local'], dailyClicks: 1.5 },
  { name: 'Slow Living Sara', email: 'sara@slowliving.example', tags: ['creator', 'launch'], dailyClicks: 3 },
  { name: 'Campus Coffee Guide', email: 'guide@campuscoffee.example', tags: ['blogger'], dailyClicks: 2.5 },
  { name: 'Trail Runner Tom', email: 'tom@trailrunner.example', tags: ['creator'], dailyClicks: 2 },
  { name: 'Neighbourhood News', email: 'desk@neighbourhood.example', tags: ['local', 'blogger'], dailyClicks: 1.5 },
  { name: 'Minimal Kitchen', email: 'team@minimalkitchen.example', tags: ['blogger'], dailyClicks: 1 },
];
/** The partner whose own purchase the fraud rules hold (self-referral). */
const SELF_REFERRER = 'sam.quick@partners.example';

export interface DemoOwner {
  userId: string;
  workspaceId: string;
  apiKey: string;
}

export interface DemoContentSummary {
  partners: number;
  clicks: number;
  leads: number;
  sales: number;
  refunds: number;
  ms: number;
}

export async function seedDemoContent(app: FastifyInstance, services: Services, owner: DemoOwner): Promise<DemoContentSummary> {
  const started = Date.now();
  const now = services.now().getTime();
  const random = seededRandom(SEED);
  const northwind = withApiKey(app, owner.apiKey);

  // Brand B signs up like any brand; its key drives its side of the partnership.
  const bakerySignup = await anonymous(app, 'POST', '/api/v1/auth/signup', {
    email: BAKERY_EMAIL,
    password: DEMO_PASSWORD,
    name: 'Bea Baker',
    workspaceName: BAKERY_WORKSPACE,
  });
  const bakery = withApiKey(app, bakerySignup.body.apiKey as string);
  const bakeryWorkspace = bakerySignup.body.workspace as { id: string; slug: string };

  const nwProgram = await northwind('POST', '/api/v1/programs', northwindProgram(owner.userId, now));
  const bbProgram = await bakery('POST', '/api/v1/programs', {
    name: 'Bluebird Friends',
    slug: BAKERY_PROGRAM_SLUG,
    currency: 'USD',
    destinationUrl: 'https://bluebird-bakery.example/',
    allowedDomains: ['bluebird-bakery.example'],
    attribution: { windowDays: 14, model: 'last_touch' },
    rules: { sale: { type: 'percentage', amount: 8 }, qualification: { holdDays: 7, minSaleAmount: 0 } },
    approval: { mode: 'manual' },
    status: 'active',
    payoutThreshold: 2500,
  });

  // Partners, each with its default link (the brand adds them already approved).
  const sources: TrafficSource[] = [];
  const partnerIds = new Map<string, string>();
  for (const spec of PARTNERS) {
    const added = await northwind('POST', `/api/v1/programs/${nwProgram.id}/partners`, {
      email: spec.email,
      name: spec.name,
      tags: spec.tags,
      ...(spec.website ? { website: spec.website } : {}),
    });
    partnerIds.set(spec.email, added.partner.id);
    sources.push(source(owner.workspaceId, nwProgram.id, added.partner.id, added.link.id, spec.dailyClicks, random, 'nw'));
  }

  // The reciprocal partnership: Northwind invites Bluebird into its program, Bluebird accepts with its own.
  const partnership = await northwind('POST', '/api/v1/partnerships', {
    inviteWorkspaceSlug: bakeryWorkspace.slug,
    programId: nwProgram.id,
    message: 'Coffee and pastries belong together — shall we send our customers to each other?',
    agreement: {
      targeting:
        'Northwind promotes Bluebird to subscribers in cities with a Bluebird shop; Bluebird promotes Northwind beans at checkout.',
      messagingGuidelines: 'Friendly, no discount codes in paid ads.',
      metrics: ['clicks', 'referrals', 'revenue'],
      reciprocityTargetPct: 25,
    },
  });
  await bakery('POST', `/api/v1/partnerships/${partnership.id}/accept`, { programId: bbProgram.id });
  const bakeryAsPartner = await brandPartnerLink(services, owner.workspaceId, nwProgram.id, bakeryWorkspace.id);
  const northwindAsPartner = await brandPartnerLink(services, bakeryWorkspace.id, bbProgram.id, owner.workspaceId);
  sources.push(source(owner.workspaceId, nwProgram.id, bakeryAsPartner.partnerId, bakeryAsPartner.linkId, 5, random, 'nw'));
  sources.push(source(bakeryWorkspace.id, bbProgram.id, northwindAsPartner.partnerId, northwindAsPartner.linkId, 7, random, 'bb'));

  // The partner portal login of Casey Creator, terms accepted. Its email is seeded as verified (a
  // real partner confirms it through the link mailed at sign-up), so its partner row links by email.
  await services.pool.query('insert into users (id, email, name, password_hash, email_verified_at) values ($1, $2, $3, $4, $5)', [
    newId('usr'),
    CREATOR_EMAIL,
    'Casey Creator',
    await hashPassword(DEMO_PASSWORD),
    new Date(now),
  ]);
  const portalLogin = await anonymous(app, 'POST', '/api/v1/auth/login', { email: CREATOR_EMAIL, password: DEMO_PASSWORD });
  const portal = withSession(app, portalLogin.cookies, portalLogin.body.csrfToken as string);
  const portalEnrollments = await portal('GET', '/api/v1/portal/enrollments');
  for (const enrollment of portalEnrollments.data as Json[]) {
    if (enrollment.terms?.needsAcceptance) await portal('POST', `/api/v1/portal/enrollments/${enrollment.id}/accept-terms`);
  }

  // History: clicks as rows, conversions through the tracking API in time order (tiers, early-bird
  // bonuses and first/last touch depend on the order things happened in).
  const history = simulateTraffic(random, sources, now, HISTORY_DAYS, { next: 1 });
  await insertClicks(services, history.clicks);
  const callers: Record<string, Caller> = { [owner.workspaceId]: northwind, [bakeryWorkspace.id]: bakery };
  const counts = await sendConversions(callers, history.conversions);

  // A held commission: Sam Quick buys through his own link with his own email (self-referral).
  const selfClickAt = now - 2 * DAY_MS - 3 * 3600_000;
  const samId = partnerIds.get(SELF_REFERRER)!;
  const samSource = sources.find((s) => s.partnerId === samId)!;
  const selfClick = await insertSelfClick(services, samSource, selfClickAt);
  await northwind('POST', '/api/v1/track/sale', {
    clickId: selfClick,
    customer: { externalId: 'nw-cust-self-1', email: SELF_REFERRER, name: 'Sam Quick', country: 'US' },
    amount: 49900,
    currency: 'USD',
    invoiceId: 'nw-inv-self-1',
    productId: 'espresso-machine',
    occurredAt: new Date(selfClickAt + 40 * 60_000).toISOString(),
  });

  // Commissions past their hold become payable; one payout batch, one payout paid.
  await northwind('POST', '/api/v1/jobs/mature', {});
  await bakery('POST', '/api/v1/jobs/mature', {});
  const batch = await northwind('POST', '/api/v1/payouts', { programId: nwProgram.id });
  const firstPayout = (batch.payouts as Json[])[0];
  if (firstPayout) await northwind('POST', `/api/v1/payouts/${firstPayout.id}/mark-paid`, { reference: 'SEPA-2026-DEMO-0001' });

  // Casey reports a sale that was not credited: an open dispute for the brand to answer.
  await portal('POST', '/api/v1/portal/disputes', {
    kind: 'missing_credit',
    programId: nwProgram.id,
    orderId: 'NW-ORDER-10428',
    customerEmail: 'jules.moreau@example.com',
    saleDate: new Date(now - 6 * DAY_MS).toISOString().slice(0, 10),
    message: 'My follower Jules bought a grinder after my unboxing video, but used the shop link from my story — no commission showed up.',
    evidenceUrls: ['https://casey.example/stories/grinder-unboxing'],
  });

  // An application waiting for the council's vote.
  await anonymous(app, 'POST', `/api/v1/public/programs/${NORTHWIND_PROGRAM_SLUG}/applications`, {
    name: 'Espresso Explorer',
    email: 'explorer@espresso-explorer.example',
    website: 'https://espresso-explorer.example',
    message: 'I review home espresso gear for 40k subscribers and would love to feature your beans.',
    audienceSize: 40_000,
    category: 'creator',
  });

  return { partners: PARTNERS.length, clicks: history.clicks.length + 1, ...counts, ms: Date.now() - started };
}

function northwindProgram(reviewerUserId: string, now: number) {
  return {
    name: 'Northwind Creators',
    slug: NORTHWIND_PROGRAM_SLUG,
    currency: 'USD',
    destinationUrl: 'https://northwind-coffee.example/',
    allowedDomains: ['northwind-coffee.example'],
    attribution: { windowDays: 30, model: 'last_touch' },
    rules: {
      lead: { type: 'flat', amount: 150 },
      sale: { type: 'percentage', amount: 10, duration: { months: 12 } },
      tiers: {
        period: 'quarter',
        levels: [
          { min: 15, type: 'percentage', amount: 12.5 },
          { min: 40, type: 'percentage', amount: 15 },
        ],
      },
      bonuses: [
        { kind: 'milestone', period: 'quarter', threshold: 25, amount: 10_000 },
        { kind: 'early_bird', period: 'month', first: 5, scope: 'program', amount: 1_000 },
      ],
      boosts: [
        {
          from: new Date(now - 21 * DAY_MS).toISOString(),
          to: new Date(now + 21 * DAY_MS).toISOString(),
          multiplier: 1.5,
          partnerTags: ['launch'],
        },
      ],
      qualification: { holdDays: 14, minSaleAmount: 0 },
      customerReward: { type: 'percentage', amount: 15, durationMonths: 3 },
    },
    terms: {
      text: 'Northwind Creators terms\n\n1. Promote Northwind Coffee honestly; disclose the partnership.\n2. No bidding on our brand name in paid search.\n3. Commissions are paid after a 14-day hold; refunded orders are reversed.',
    },
    approval: { mode: 'council', quorum: 1, reviewers: [reviewerUserId] },
    status: 'active',
    payoutThreshold: 5_000,
  };
}

/** A partner's traffic profile: its reach, and conversion rates that vary a little per partner. */
function source(
  workspaceId: string,
  programId: string,
  partnerId: string,
  linkId: string,
  dailyClicks: number,
  random: Random,
  prefix: string,
): TrafficSource {
  return {
    workspaceId,
    programId,
    partnerId,
    linkId,
    dailyClicks,
    leadRate: 0.03 + random.next() * 0.035,
    saleRate: 0.5 + random.next() * 0.25,
    currency: 'USD',
    prefix,
  };
}

/** The partner row a brand has in the other brand's program (created by the partnership) and its default link. */
async function brandPartnerLink(
  services: Services,
  hostWorkspaceId: string,
  programId: string,
  guestWorkspaceId: string,
): Promise<{ partnerId: string; linkId: string }> {
  const { rows } = await services.pool.query<{ partner_id: string; link_id: string }>(
    `select p.id as partner_id, l.id as link_id from partners p
       join links l on l.workspace_id = p.workspace_id and l.partner_id = p.id and l.program_id = $2
      where p.workspace_id = $1 and p.partner_workspace_id = $3
      order by l.is_default desc, l.created_at limit 1`,
    [hostWorkspaceId, programId, guestWorkspaceId],
  );
  if (!rows[0]) throw new Error('demo seeding: the accepted partnership left no partner link');
  return { partnerId: rows[0].partner_id, linkId: rows[0].link_id };
}

/**
 * Past clicks go straight into `clicks` and `click_rollups` (the redirect only records clicks at
 * the present moment), in one statement per batch shaped like the redirect's own click writer.
 */
async function insertClicks(services: Services, clicks: readonly SimulatedClick[]): Promise<void> {
  const batchSize = 5_000;
  for (let i = 0; i < clicks.length; i += batchSize) {
    const batch = clicks.slice(i, i + batchSize);
    const column = <K extends keyof SimulatedClick>(k: K) => batch.map((c) => c[k]);
    await services.pool.query(
      `with inserted as (
         insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at, visitor_hash, ip_hash, country, device, browser, os, referrer_host)
         select * from unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[],
                              $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
         on conflict do nothing
         returning workspace_id, link_id, program_id, partner_id, created_at)
       insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks)
       select workspace_id, link_id, date_trunc('hour', created_at, 'UTC'), program_id, partner_id, count(*)::int from inserted group by 1, 2, 3, 4, 5
       on conflict (workspace_id, link_id, hour) do update set clicks = click_rollups.clicks + excluded.clicks`,
      [
        column('workspaceId'),
        column('uuid'),
        column('linkId'),
        column('programId'),
        column('partnerId'),
        column('at'),
        column('visitorHash'),
        column('ipHash'),
        column('country'),
        column('device'),
        column('browser'),
        column('os'),
        column('referrerHost'),
      ],
    );
  }
}

async function insertSelfClick(services: Services, source: TrafficSource, at: number): Promise<string> {
  const uuid = uuidv7(at);
  await insertClicks(services, [
    {
      workspaceId: source.workspaceId,
      uuid,
      linkId: source.linkId,
      programId: source.programId,
      partnerId: source.partnerId,
      at: new Date(at),
      visitorHash: 'self-referral-visitor',
      ipHash: 'self-referral-ip',
      country: 'US',
      device: 'desktop',
      browser: 'Chrome',
      os: 'macOS',
      referrerHost: null,
    },
  ]);
  return clickIdFromUuid(uuid);
}

/**
 * Sends the conversions in time order, each through the brand's own key: tiers, early-bird
 * bonuses and first/last touch depend on the order things happened in, so they go one by one.
 */
async function sendConversions(
  callers: Record<string, Caller>,
  conversions: readonly Conversion[],
): Promise<{ leads: number; sales: number; refunds: number }> {
  const counts = { leads: 0, sales: 0, refunds: 0 };
  for (const conversion of conversions) {
    const call = callers[conversion.workspaceId]!;
    if (conversion.kind === 'lead') {
      await call('POST', '/api/v1/track/lead', conversion.body);
      counts.leads++;
    } else if (conversion.kind === 'sale') {
      await call('POST', '/api/v1/track/sale', conversion.body);
      counts.sales++;
    } else {
      await call('POST', '/api/v1/track/refund', conversion.body);
      counts.refunds++;
    }
  }
  return counts;
}
