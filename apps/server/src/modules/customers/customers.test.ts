import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { insertPartner, insertProgram, type PartnerFixture, type ProgramFixture } from '../tracking/test-fixtures.js';

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let program: ProgramFixture;
let partner: PartnerFixture;

beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
  program = await insertProgram(ctx.pool, brand.workspaceId);
  partner = await insertPartner(ctx.pool, program);
  for (let i = 0; i < 3; i++) {
    await api('POST', '/api/v1/track/sale', {
      customer: { externalId: `c${i}`, email: `c${i}@example.com`, name: `C ${i}` },
      amount: 100 * (i + 1),
      currency: 'USD',
      invoiceId: `in_${i}`,
      couponCode: partner.couponCode,
    });
  }
  await api('POST', '/api/v1/track/sale', { customer: { externalId: 'walk-in' }, amount: 50, currency: 'USD', invoiceId: 'in_plain' });
  await api('POST', '/api/v1/track/refund', { invoiceId: 'in_2', amount: 120 });
});
afterAll(async () => ctx?.close());

describe('GET /api/v1/customers', () => {
  it('lists customers newest first with their attribution and never an email or its hash', async () => {
    const res = await api('GET', '/api/v1/customers?limit=2');
    expect(res.statusCode).toBe(200);
    const first = res.json();
    expect(first.data.map((c: { externalId: string }) => c.externalId)).toEqual(['walk-in', 'c2']);
    expect(first.data[1]).toMatchObject({
      name: 'C 2',
      partnerId: partner.partnerId,
      programId: program.programId,
      attributedVia: 'coupon',
      clickId: null,
      firstAttributedAt: expect.any(String),
    });
    expect(res.body).not.toMatch(/example\.com|email/i);
    const second = (await api('GET', `/api/v1/customers?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.data.map((c: { externalId: string }) => c.externalId)).toEqual(['c1', 'c0']);
    expect(second.nextCursor).toBeNull();
  });

  it('filters by partner', async () => {
    const res = (await api('GET', `/api/v1/customers?partnerId=${partner.partnerId}`)).json();
    expect(res.data).toHaveLength(3);
  });
});

describe('GET /api/v1/sales', () => {
  it('lists sales with refunded amounts, filtered by partner', async () => {
    const all = (await api('GET', '/api/v1/sales')).json();
    expect(all.data).toHaveLength(4);
    const byPartner = (await api('GET', `/api/v1/sales?partnerId=${partner.partnerId}`)).json();
    expect(byPartner.data.map((s: { invoiceId: string; refundedAmount: number }) => [s.invoiceId, s.refundedAmount])).toEqual([
      ['in_2', 120],
      ['in_1', 0],
      ['in_0', 0],
    ]);
    expect(byPartner.data[0]).toMatchObject({ amount: 300, currency: 'USD', source: 'api', attributedVia: 'coupon' });
  });

  it("never shows another workspace's customers or sales, and refuses a forged cursor", async () => {
    const other = asKey(ctx.app, (await signupActor(ctx.app)).apiKey);
    expect((await other('GET', '/api/v1/sales')).json().data).toEqual([]);
    expect((await other('GET', '/api/v1/customers')).json().data).toEqual([]);
    expect((await api('GET', '/api/v1/sales?cursor=bm9wZQ')).statusCode).toBe(422);
  });
});
