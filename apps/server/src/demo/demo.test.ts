import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '@tandem/core';
import { asKey, createTestContext, type TestContext } from '../test/harness.js';
import { BAKERY_EMAIL, CREATOR_EMAIL, DEMO_EMAIL, DEMO_PASSWORD, seedDemo, type DemoResult } from './demo.js';
import { seededRandom } from './random.js';

let ctx: TestContext;
let first: DemoResult;
let api: ReturnType<typeof asKey>;
let programId: string;
const tableCounts = async () =>
  (
    await ctx.pool.query<{ counts: Record<string, number> }>(
      `select json_build_object(
         'workspaces', (select count(*) from workspaces), 'users', (select count(*) from users), 'programs', (select count(*) from programs),
         'partners', (select count(*) from partners), 'clicks', (select count(*) from clicks), 'leads', (select count(*) from leads),
         'sales', (select count(*) from sales), 'refunds', (select count(*) from refunds), 'commissions', (select count(*) from commissions),
         'payouts', (select count(*) from payouts), 'disputes', (select count(*) from disputes), 'partnerships', (select count(*) from partnerships),
         'apiKeys', (select count(*) from api_keys where revoked_at is null)) as counts`,
    )
  ).rows[0]!.counts;

beforeAll(async () => {
  ctx = await createTestContext();
  first = await seedDemo(ctx.services, ctx.app);
  api = asKey(ctx.app, first.apiKey);
  programId = (await api('GET', '/api/v1/programs')).json().data.find((p: { slug: string }) => p.slug === 'northwind-creators').id;
}, 180_000);
afterAll(async () => ctx?.close());

const get = async (url: string) => {
  const res = await api('GET', url);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json();
};
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY_MS).toISOString().slice(0, 10);

describe('the demo workspace', () => {
  it('has the creator program with tiers, bonuses, a launch boost, a 14-day hold, a customer reward and a council', async () => {
    const program = await get(`/api/v1/programs/${programId}`);
    expect(program).toMatchObject({
      name: 'Northwind Creators',
      status: 'active',
      approval: { mode: 'council', quorum: 1, reviewers: [expect.stringMatching(/^usr_/)] },
      rules: {
        sale: { type: 'percentage' },
        tiers: { period: 'quarter' },
        qualification: { holdDays: 14 },
        customerReward: { type: 'percentage' },
        boosts: [{ partnerTags: ['launch'] }],
      },
    });
    expect(program.rules.bonuses.map((b: { kind: string }) => b.kind).sort()).toEqual(['early_bird', 'milestone']);
  });

  it('has at least 20 partners with tags, one of them the brand Bluebird Bakery', async () => {
    const partners = await get(`/api/v1/programs/${programId}/partners?limit=100`);
    expect(partners.data.length).toBeGreaterThanOrEqual(20);
    const tags = new Set(partners.data.flatMap((e: { tags: string[] }) => e.tags));
    for (const tag of ['creator', 'blogger', 'local', 'launch']) expect(tags).toContain(tag);
    expect(partners.data.some((e: { partner: { isBrand: boolean } }) => e.partner.isBrand)).toBe(true);
  });

  it('shows ~90 days of clicks, leads, sales and refunds in the analytics summary', async () => {
    const summary = await get(`/api/v1/analytics/summary?from=${day(-91)}&to=${day(0)}`);
    expect(summary.totals.clicks).toBeGreaterThan(3_000);
    expect(summary.totals.leads).toBeGreaterThan(100);
    expect(summary.totals.sales).toBeGreaterThanOrEqual(200);
    expect(summary.totals.refunds).toBeGreaterThan(0);
    const activeDays = summary.series.filter((d: { clicks: number }) => d.clicks > 0).map((d: { date: string }) => d.date);
    expect(activeDays[0] <= day(-85)).toBe(true);
    expect(activeDays.at(-1) >= day(-1)).toBe(true);
  });

  it('has commissions in every state a screen shows, including a held self-referral', async () => {
    const statuses = new Set<string>();
    for (const status of ['pending', 'held', 'payable', 'paid', 'reversed']) {
      if ((await get(`/api/v1/commissions?status=${status}&limit=1`)).data.length > 0) statuses.add(status);
    }
    expect([...statuses].sort()).toEqual(['held', 'paid', 'payable', 'pending', 'reversed']);
    const reviews = await get('/api/v1/reviews');
    expect(JSON.stringify(reviews)).toContain('self_referral');
  });

  it('has a payout batch with one payout paid', async () => {
    const paid = await get('/api/v1/payouts?status=paid');
    expect(paid.data).toHaveLength(1);
    expect(paid.data[0]).toMatchObject({ status: 'paid', reference: 'SEPA-2026-DEMO-0001' });
  });

  it('has an open dispute filed by the portal partner, and an application awaiting the council', async () => {
    const disputes = await get('/api/v1/disputes?status=open');
    expect(disputes.data).toHaveLength(1);
    expect(disputes.data[0]).toMatchObject({ kind: 'missing_credit' });
    const applications = await get('/api/v1/applications?status=applied');
    expect(applications.data.map((a: { partner: { email: string } }) => a.partner.email)).toContain('explorer@espresso-explorer.example');
  });

  it('has a reciprocal partnership with Bluebird Bakery and traffic both ways', async () => {
    const partnerships = await get('/api/v1/partnerships');
    expect(partnerships.data).toHaveLength(1);
    const balance = await get(`/api/v1/partnerships/${partnerships.data[0].id}/balance`);
    expect(balance.directions).toHaveLength(2);
    for (const direction of balance.directions) {
      expect(direction.clicks).toBeGreaterThan(0);
      expect(direction.referrals).toBeGreaterThan(0);
      expect(direction.commissions).toBeGreaterThan(0);
    }
    expect(balance.net.amount).toBeGreaterThan(0);
  });

  it('keeps no personal details of the customers who withheld consent', async () => {
    const { rows } = await ctx.pool.query(
      `select count(*)::int as n from customers c where c.name is null and c.partner_id is not null and c.workspace_id = $1`,
      [first.workspaceId],
    );
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('has a verifying ledger', async () => {
    expect(await get('/api/v1/ledger/verify')).toMatchObject({ ok: true });
  });

  it('lets the three demo logins sign in', async () => {
    for (const email of [DEMO_EMAIL, BAKERY_EMAIL, CREATOR_EMAIL]) {
      const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: DEMO_PASSWORD } });
      expect(login.statusCode, email).toBe(200);
    }
  });
});

describe('seeding again', () => {
  it('adds nothing; it only issues a fresh key and revokes the previous one', async () => {
    const before = await tableCounts();
    const second = await seedDemo(ctx.services, ctx.app);
    expect(first.created).toBe(true);
    expect(first.content).not.toBeNull();
    expect(second.created).toBe(false);
    expect(second.content).toBeNull();
    expect(second.workspaceId).toBe(first.workspaceId);
    expect(await tableCounts()).toEqual(before);
    const me = (key: string) => ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${key}` } });
    expect((await me(second.apiKey)).statusCode).toBe(200);
    expect((await me(first.apiKey)).statusCode).toBe(401);
    api = asKey(ctx.app, second.apiKey);
  });
});

describe('seededRandom', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
