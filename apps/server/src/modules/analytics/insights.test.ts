import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import type { PartnerFixture, ProgramFixture } from '../tracking/test-fixtures.js';
import { insertPartnerWithTags, insertProgramWithRules } from '../rewards/test-fixtures.js';
import { foldSegments, type CohortCustomer } from './segments.js';
import { rankPartners } from './top-partners.js';

const NOW = new Date('2026-06-15T12:00:00.000Z');
let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let program: ProgramFixture;
let ava: PartnerFixture; // tags creator, video
let ben: PartnerFixture; // tag coupon
let cal: PartnerFixture; // no tags

async function clicksAt(ptn: PartnerFixture, hour: string, clicks: number) {
  await ctx.pool.query('insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks) values ($1, $2, $3, $4, $5, $6)', [
    program.workspaceId, ptn.linkId, hour, program.programId, ptn.partnerId, clicks,
  ]);
}
let invoice = 0;
async function sale(ptn: PartnerFixture, customer: string, amount: number, occurredAt: string): Promise<string> {
  const invoiceId = `inv-${++invoice}`;
  const res = await api('POST', '/api/v1/track/sale', { couponCode: ptn.couponCode, customer: { externalId: customer }, amount, currency: 'USD', invoiceId, occurredAt });
  expect(res.statusCode).toBe(200);
  return invoiceId;
}
async function refund(invoiceId: string, occurredAt: string, amount?: number) {
  const res = await api('POST', '/api/v1/track/refund', { invoiceId, occurredAt, ...(amount ? { amount } : {}) });
  expect(res.statusCode).toBe(200);
}

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
  program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'percentage', amount: 10 } });
  ava = await insertPartnerWithTags(ctx.pool, program, ['creator', 'video']);
  ben = await insertPartnerWithTags(ctx.pool, program, ['coupon']);
  cal = await insertPartnerWithTags(ctx.pool, program, []);
  for (const [p, name] of [[ava, 'Ava'], [ben, 'Ben'], [cal, 'Cal']] as const) await ctx.pool.query('update partners set name = $2 where id = $1', [p.partnerId, name]);

  // June: the top-partners window (2026-06-01 … 2026-06-15).
  await clicksAt(ava, '2026-06-13T09:00:00Z', 100);
  await clicksAt(ben, '2026-06-14T09:00:00Z', 50);
  await clicksAt(ava, '2026-05-31T23:00:00Z', 900); // before the window
  const a1 = await sale(ava, 'a1', 10_000, '2026-06-13T10:00:00Z');
  await sale(ava, 'a2', 20_000, '2026-06-14T10:00:00Z');
  await refund(a1, '2026-06-14T12:00:00Z', 2_000);
  await sale(ben, 'b1', 5_000, '2026-06-14T11:00:00Z');
  await api('POST', '/api/v1/track/lead', { couponCode: cal.couponCode, customer: { externalId: 'c1' }, occurredAt: '2026-06-14T10:00:00Z' });

  // Older cohorts for segment quality.
  await sale(ava, 'a-old-1', 10_000, '2026-02-01T10:00:00Z'); // stays: buys again on day 37 and day 73
  await sale(ava, 'a-old-1', 10_000, '2026-03-10T10:00:00Z');
  await sale(ava, 'a-old-1', 10_000, '2026-04-15T10:00:00Z');
  const aOld2 = await sale(ava, 'a-old-2', 10_000, '2026-02-10T10:00:00Z'); // refunds everything on day 10
  await refund(aOld2, '2026-02-20T10:00:00Z');
  await sale(ben, 'b-old', 8_000, '2026-03-01T10:00:00Z'); // buys once
  await sale(cal, 'c-old', 4_000, '2026-05-01T10:00:00Z'); // 45 days old: only the 30-day share applies

  // Noise: another workspace's conversions.
  const other = await signupActor(ctx.app);
  const otherProgram = await insertProgramWithRules(ctx.pool, other.workspaceId, { sale: { type: 'percentage', amount: 10 } });
  const otherPartner = await insertPartnerWithTags(ctx.pool, otherProgram, ['creator']);
  await asKey(ctx.app, other.apiKey)('POST', '/api/v1/track/sale', { couponCode: otherPartner.couponCode, customer: { externalId: 'x' }, amount: 99_000, currency: 'USD', invoiceId: 'x1', occurredAt: '2026-06-13T11:00:00Z' });
});
afterAll(async () => ctx?.close());

const topPartners = (qs: string) => api('GET', `/api/v1/analytics/top-partners?${qs}`);
const segments = (qs: string) => api('GET', `/api/v1/analytics/segments?${qs}`);

describe('GET /api/v1/analytics/top-partners', () => {
  it('ranks partners by sales with clicks, revenue, commissions, conversion rate and EPC', async () => {
    const res = await topPartners(`programId=${program.programId}&from=2026-06-01&to=2026-06-15`);
    expect(res.statusCode).toBe(200);
    const { data } = res.json();
    const commissionsOf = async (partnerId: string) => {
      const { rows } = await ctx.pool.query<{ total: string }>(
        `select coalesce(sum(amount - reversed_amount), 0)::text as total from commissions where partner_id = $1 and occurred_at >= '2026-06-01' and status <> 'reversed'`,
        [partnerId],
      );
      return Number(rows[0]!.total);
    };
    expect(await commissionsOf(ava.partnerId)).toBeGreaterThan(0);
    expect(data).toEqual([
      {
        partnerId: ava.partnerId, name: 'Ava', clicks: 100, leads: 0, sales: 2,
        revenue: [{ currency: 'USD', amount: 28_000 }],
        commissions: [{ currency: 'USD', amount: await commissionsOf(ava.partnerId) }],
        conversionRate: 0.02, epc: [{ currency: 'USD', amount: 280 }],
      },
      {
        partnerId: ben.partnerId, name: 'Ben', clicks: 50, leads: 0, sales: 1,
        revenue: [{ currency: 'USD', amount: 5_000 }], commissions: [{ currency: 'USD', amount: 500 }],
        conversionRate: 0.02, epc: [{ currency: 'USD', amount: 100 }],
      },
      { partnerId: cal.partnerId, name: 'Cal', clicks: 0, leads: 1, sales: 0, revenue: [], commissions: [], conversionRate: null, epc: [] },
    ]);
  });

  it('keeps the first `limit` partners', async () => {
    const { data } = (await topPartners(`from=2026-06-01&to=2026-06-15&limit=1`)).json();
    expect(data.map((p: { name: string }) => p.name)).toEqual(['Ava']);
  });

  it('counts only the range asked for', async () => {
    const { data } = (await topPartners(`from=2026-05-31&to=2026-05-31`)).json();
    expect(data).toEqual([expect.objectContaining({ partnerId: ava.partnerId, clicks: 900, sales: 0 })]);
  });

  it('rejects a reversed range, a range over a year and a bad limit', async () => {
    const reversed = await topPartners('from=2026-06-10&to=2026-06-01');
    expect(reversed.statusCode).toBe(422);
    expect(reversed.json().error.details[0].path).toBe('from');
    expect((await topPartners('from=2024-01-01&to=2026-06-01')).statusCode).toBe(422);
    expect((await topPartners('from=2026-06-01&to=2026-06-02&limit=0')).statusCode).toBe(422);
    expect((await topPartners('from=2026-06-01')).statusCode).toBe(422);
  });

  it('shows another workspace nothing of this one', async () => {
    const other = await signupActor(ctx.app);
    const res = await asKey(ctx.app, other.apiKey)('GET', `/api/v1/analytics/top-partners?programId=${program.programId}&from=2026-06-01&to=2026-06-15`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([]);
  });
});

describe('GET /api/v1/analytics/segments', () => {
  it('reports per tag who stays and who refunds', async () => {
    const res = await segments(`programId=${program.programId}&from=2026-01-01&to=2026-06-15`);
    expect(res.statusCode).toBe(200);
    const byTag = Object.fromEntries(res.json().data.map((s: { tag: string | null }) => [String(s.tag), s]));
    expect(Object.keys(byTag).sort()).toEqual(['coupon', 'creator', 'null', 'video']);
    // Ava: a-old-1 stays, a-old-2 refunded everything; a1 and a2 are too young for any share.
    const creator = {
      tag: 'creator', partners: 1, customers: 4,
      active: { d30: { eligible: 2, share: 0.5 }, d60: { eligible: 2, share: 0.5 }, d90: { eligible: 2, share: 0.5 } },
      notRefunded: { d30: { eligible: 2, share: 0.5 }, d60: { eligible: 2, share: 0.5 }, d90: { eligible: 2, share: 0.5 } },
      refundRate: 0.5, // a-old-2 and a1
      revenuePerCustomer: [{ currency: 'USD', amount: (30_000 + 0 + 8_000 + 20_000) / 4 }],
    };
    expect(byTag.creator).toEqual(creator);
    expect(byTag.video).toEqual({ ...creator, tag: 'video' });
    // Ben: b-old bought once, so it is active in its first 30 days and gone after.
    expect(byTag.coupon).toEqual({
      tag: 'coupon', partners: 1, customers: 2,
      active: { d30: { eligible: 1, share: 1 }, d60: { eligible: 1, share: 0 }, d90: { eligible: 1, share: 0 } },
      notRefunded: { d30: { eligible: 1, share: 1 }, d60: { eligible: 1, share: 1 }, d90: { eligible: 1, share: 1 } },
      refundRate: 0, revenuePerCustomer: [{ currency: 'USD', amount: 6_500 }],
    });
    // Cal (untagged): c-old is 45 days old; the lead-only c1 is no customer with a sale.
    expect(byTag.null).toEqual({
      tag: null, partners: 1, customers: 1,
      active: { d30: { eligible: 1, share: 1 }, d60: { eligible: 0, share: null }, d90: { eligible: 0, share: null } },
      notRefunded: { d30: { eligible: 1, share: 1 }, d60: { eligible: 0, share: null }, d90: { eligible: 0, share: null } },
      refundRate: 0, revenuePerCustomer: [{ currency: 'USD', amount: 4_000 }],
    });
  });

  it('takes the cohort by the first sale’s date', async () => {
    const { data } = (await segments(`from=2026-02-05&to=2026-02-28`)).json();
    expect(data.map((s: { tag: string; customers: number }) => [s.tag, s.customers])).toEqual([['creator', 1], ['video', 1]]);
  });

  it('rejects a reversed range and unknown parameters', async () => {
    expect((await segments('from=2026-06-10&to=2026-06-01')).statusCode).toBe(422);
    expect((await segments('from=2026-06-01&to=2026-06-10&tag=x')).statusCode).toBe(422);
  });

  it('shows another workspace nothing of this one', async () => {
    const other = await signupActor(ctx.app);
    const res = await asKey(ctx.app, other.apiKey)('GET', `/api/v1/analytics/segments?from=2026-01-01&to=2026-06-15`);
    expect(res.json().data).toEqual([]);
  });
});

describe('pure folds', () => {
  it('rankPartners breaks ties by revenue, then clicks', () => {
    const base = { leads: 0, sales: 1, refunded: [], commissions: [] };
    const ranked = rankPartners(
      [
        { ...base, partnerId: 'p1', name: 'One', clicks: 10, gross: [{ currency: 'USD', amount: 100 }] },
        { ...base, partnerId: 'p2', name: 'Two', clicks: 5, gross: [{ currency: 'USD', amount: 300 }] },
        { ...base, partnerId: 'p3', name: 'Three', clicks: 20, gross: [{ currency: 'USD', amount: 100 }] },
      ],
      10,
    );
    expect(ranked.map((r) => r.partnerId)).toEqual(['p2', 'p3', 'p1']);
  });

  it('foldSegments counts a customer under each tag and leaves young customers out of the shares', () => {
    const customer = (id: string, tags: string[], firstSaleAt: string, refunded: boolean): CohortCustomer => ({
      customerId: id, partnerId: 'p', tags, firstSaleAt: new Date(firstSaleAt),
      activeAt: { 30: !refunded, 60: false, 90: false }, refundedBy: { 30: refunded, 60: refunded, 90: refunded }, everRefunded: refunded,
      netRevenue: [{ currency: 'EUR', amount: refunded ? 0 : 900 }],
    });
    const rows = foldSegments([customer('c1', ['x', 'y'], '2026-01-01T00:00:00Z', false), customer('c2', ['x'], '2026-06-10T00:00:00Z', true)], NOW);
    expect(rows.map((r) => [r.tag, r.customers, r.active.d30, r.refundRate, r.revenuePerCustomer])).toEqual([
      ['x', 2, { eligible: 1, share: 1 }, 0.5, [{ currency: 'EUR', amount: 450 }]],
      ['y', 1, { eligible: 1, share: 1 }, 0, [{ currency: 'EUR', amount: 900 }]],
    ]);
  });
});
