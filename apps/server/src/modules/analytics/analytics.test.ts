import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { insertPartner, insertProgram, type PartnerFixture, type ProgramFixture } from '../tracking/test-fixtures.js';

const NOW = new Date('2026-06-15T12:00:00.000Z');
let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let program: ProgramFixture;
let partner: PartnerFixture;

async function clicksAt(p: ProgramFixture, ptn: PartnerFixture, hour: string, clicks: number) {
  await ctx.pool.query(
    `insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks) values ($1, $2, $3, $4, $5, $6)
     on conflict (workspace_id, link_id, hour) do update set clicks = click_rollups.clicks + excluded.clicks`,
    [p.workspaceId, ptn.linkId, hour, p.programId, ptn.partnerId, clicks],
  );
}

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
  program = await insertProgram(ctx.pool, brand.workspaceId);
  partner = await insertPartner(ctx.pool, program);

  await clicksAt(program, partner, '2026-06-13T09:00:00Z', 60);
  await clicksAt(program, partner, '2026-06-13T23:00:00Z', 40);
  await clicksAt(program, partner, '2026-06-14T10:00:00Z', 100);
  await clicksAt(program, partner, '2026-06-12T23:00:00Z', 999); // the day before the range
  const track = (path: string, body: object) => api('POST', `/api/v1/track/${path}`, body);
  await track('lead', { couponCode: partner.couponCode, customer: { externalId: 'a' }, occurredAt: '2026-06-13T10:00:00Z' });
  await track('lead', { couponCode: partner.couponCode, customer: { externalId: 'b' }, occurredAt: '2026-06-14T10:00:00Z' });
  await track('sale', {
    couponCode: partner.couponCode,
    customer: { externalId: 'a' },
    amount: 10_000,
    currency: 'USD',
    invoiceId: 'i1',
    occurredAt: '2026-06-13T11:00:00Z',
  });
  await track('sale', {
    customer: { externalId: 'b' },
    amount: 5000,
    currency: 'EUR',
    invoiceId: 'i2',
    occurredAt: '2026-06-14T23:59:59Z',
  });
  await track('refund', { invoiceId: 'i1', amount: 2000, occurredAt: '2026-06-14T12:00:00Z' });
  // Noise that must not show: an unattributed lead and another workspace's conversions.
  await track('lead', { customer: { externalId: 'nobody' }, occurredAt: '2026-06-13T10:00:00Z' });
  const other = await signupActor(ctx.app);
  await asKey(ctx.app, other.apiKey)('POST', '/api/v1/track/sale', {
    customer: { externalId: 'x' },
    amount: 1,
    currency: 'USD',
    invoiceId: 'i1',
    occurredAt: '2026-06-13T11:00:00Z',
  });
});
afterAll(async () => ctx?.close());

describe('GET /api/v1/analytics/summary', () => {
  it('combines click and conversion rollups per day for a partner, with conversion rate and EPC', async () => {
    const res = await api(
      'GET',
      `/api/v1/analytics/summary?programId=${program.programId}&partnerId=${partner.partnerId}&from=2026-06-13&to=2026-06-15`,
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.series).toEqual([
      {
        date: '2026-06-13',
        clicks: 100,
        leads: 1,
        sales: 1,
        revenue: [{ currency: 'USD', amount: 10_000 }],
        refunds: 0,
        refundedAmount: [],
      },
      // Customer b is attributed by its lead's coupon, so its sale (no coupon) counts for the partner too.
      {
        date: '2026-06-14',
        clicks: 100,
        leads: 1,
        sales: 1,
        revenue: [{ currency: 'EUR', amount: 5000 }],
        refunds: 1,
        refundedAmount: [{ currency: 'USD', amount: 2000 }],
      },
      { date: '2026-06-15', clicks: 0, leads: 0, sales: 0, revenue: [], refunds: 0, refundedAmount: [] },
    ]);
    expect(body.totals).toMatchObject({ clicks: 200, leads: 2, sales: 2, conversionRate: 0.01, leadRate: 0.01 });
    expect(body.totals.epc).toEqual([
      { currency: 'USD', amount: 40 }, // (10000 − 2000) / 200
      { currency: 'EUR', amount: 25 },
    ]);
  });

  it('without filters counts unattributed conversions too, and never another workspace', async () => {
    const body = (await api('GET', '/api/v1/analytics/summary?from=2026-06-13&to=2026-06-13')).json();
    expect(body.totals).toMatchObject({ leads: 2, sales: 1, revenue: [{ currency: 'USD', amount: 10_000 }] });
  });

  it('gives null rates without clicks', async () => {
    const body = (await api('GET', '/api/v1/analytics/summary?from=2026-01-01&to=2026-01-02')).json();
    expect(body.totals).toMatchObject({ clicks: 0, conversionRate: null, leadRate: null, epc: [] });
  });

  it('refuses from after to, a range over 366 days, and a bad date with 422', async () => {
    expect((await api('GET', '/api/v1/analytics/summary?from=2026-06-14&to=2026-06-13')).statusCode).toBe(422);
    expect((await api('GET', '/api/v1/analytics/summary?from=2024-01-01&to=2026-01-01')).statusCode).toBe(422);
    const bad = await api('GET', '/api/v1/analytics/summary?from=yesterday&to=2026-06-13');
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details[0].path).toBe('from');
  });
});
