import { afterAll, beforeAll, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, uniqueEmail, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

it('records every payout step in the audit trail: batch, processing, paid, failed', async () => {
  const brand = await signupActor(ctx.app);
  const api = asKey(ctx.app, brand.apiKey);
  const programId = (await api('POST', '/api/v1/programs', { name: 'Audited payouts', currency: 'USD', destinationUrl: 'https://shop.example.com/', rules: { sale: { type: 'flat', amount: 1500 } } })).json().id;
  const coupons: string[] = [];
  for (const name of ['Ann', 'Ben']) coupons.push((await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(name), name })).json().enrollment.couponCode);
  for (const [i, couponCode] of coupons.entries()) {
    expect((await api('POST', '/api/v1/track/sale', { customer: { externalId: `aud-${i}` }, amount: 10_000, currency: 'USD', invoiceId: `AUD-${i}`, couponCode })).statusCode).toBe(200);
  }
  await api('POST', '/api/v1/jobs/mature', { asOf: new Date(Date.now() + 60_000).toISOString() });
  const batch = await api('POST', '/api/v1/payouts', { programId, minAmount: 1 });
  expect(batch.json().payouts, batch.body).toHaveLength(2);
  expect(batch.statusCode).toBe(201);
  const [first, second] = batch.json().payouts;
  expect((await api('POST', `/api/v1/payouts/${first.id}/mark-paid`, { reference: 'WIRE-1' })).statusCode).toBe(200);
  expect((await api('POST', `/api/v1/payouts/${second.id}/processing`)).statusCode).toBe(200);
  expect((await api('POST', `/api/v1/payouts/${second.id}/mark-failed`, { reason: 'Bank rejected' })).statusCode).toBe(200);

  const entries = (await api('GET', '/api/v1/audit?action=payout.')).json().data as { action: string; target: { id: string }; after: Record<string, unknown> }[];
  expect(entries.map((e) => e.action).sort()).toEqual(['payout.batch_created', 'payout.failed', 'payout.paid', 'payout.processing']);
  expect(entries.find((e) => e.action === 'payout.paid')).toMatchObject({ target: { id: first.id }, after: { status: 'paid', reference: 'WIRE-1', amount: 1500 } });
  expect(entries.find((e) => e.action === 'payout.batch_created')?.target.id).toBe(batch.json().batchId);
  const matured = (await api('GET', '/api/v1/audit?action=commissions.matured')).json().data;
  expect(matured).toEqual([expect.objectContaining({ actor: expect.objectContaining({ kind: 'api_key' }), after: expect.objectContaining({ payable: 2 }) })]);
});
