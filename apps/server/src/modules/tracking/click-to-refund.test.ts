import { afterAll, beforeAll, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { insertPartner, insertProgram } from './test-fixtures.js';

/*
 * The whole path through the real redirect: a visitor clicks a partner link, signs up at once
 * (the click may still be in the redirect's batch buffer: tracking waits briefly for a fresh click
 * id), buys, gets a partial refund; the dashboard summary shows it all from the rollups.
 */

const NOW = new Date('2026-06-15T12:00:00.000Z');
let ctx: TestContext;
let brand: Actor;

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
});
afterAll(async () => ctx?.close());

it('click → immediate lead → sale → partial refund → summary', async () => {
  const api = asKey(ctx.app, brand.apiKey);
  const program = await insertProgram(ctx.pool, brand.workspaceId);
  const partner = await insertPartner(ctx.pool, program);
  const link = await api('POST', '/api/v1/links', { programId: program.programId, partnerId: partner.partnerId });
  expect(link.statusCode).toBe(201);

  const visit = await ctx.app.inject({
    method: 'GET',
    url: `/r/${link.json().key}`,
    headers: {
      'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
    },
    remoteAddress: '198.51.100.23',
  });
  expect(visit.statusCode).toBe(302);
  const clickId = new URL(visit.headers.location as string).searchParams.get('tdm_click');
  expect(clickId).toMatch(/^clk_[0-9a-f]{32}$/);

  const lead = await api('POST', '/api/v1/track/lead', { clickId, customer: { externalId: 'visitor-1', email: 'v@example.com' } });
  expect(lead.json()).toMatchObject({ attributed: true, partnerId: partner.partnerId });
  const sale = await api('POST', '/api/v1/track/sale', {
    customer: { externalId: 'visitor-1' },
    amount: 8000,
    currency: 'USD',
    invoiceId: 'in_1',
  });
  expect(sale.json()).toMatchObject({ attributed: true, partnerId: partner.partnerId });
  expect((await api('POST', '/api/v1/track/refund', { invoiceId: 'in_1', amount: 3000 })).statusCode).toBe(200);

  const summary = (await api('GET', `/api/v1/analytics/summary?programId=${program.programId}&from=2026-06-15&to=2026-06-15`)).json();
  expect(summary.totals).toMatchObject({
    clicks: 1,
    leads: 1,
    sales: 1,
    revenue: [{ currency: 'USD', amount: 8000 }],
    refundedAmount: [{ currency: 'USD', amount: 3000 }],
    conversionRate: 1,
    epc: [{ currency: 'USD', amount: 5000 }],
  });
});
