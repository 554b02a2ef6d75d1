import { afterAll, beforeAll, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, uniqueEmail, type TestContext } from '../../test/harness.js';
import { verifyPortalEmailForTest } from '../portal/test-support.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

it('banning a partner holds its unpaid commissions for review, in the same request', async () => {
  const brand = await signupActor(ctx.app);
  const api = asKey(ctx.app, brand.apiKey);
  const program = await api('POST', '/api/v1/programs', { name: 'Ban Test', currency: 'USD', destinationUrl: 'https://shop.example.com/', rules: { sale: { type: 'percentage', amount: 10 } } });
  const programId = program.json().id;
  const added = await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail('banned'), name: 'Bea' });
  const { partner, enrollment } = added.json();
  const sale = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'c-ban-1' }, amount: 5000, currency: 'USD', invoiceId: 'INV-BAN-1', couponCode: enrollment.couponCode });
  expect(sale.json()).toMatchObject({ attributed: true, commission: { amount: 500, status: 'pending' } });

  const ban = await api('POST', `/api/v1/enrollments/${enrollment.id}/status`, { status: 'banned', reason: 'Fake traffic' });
  expect(ban.statusCode).toBe(200);
  const commissions = (await api('GET', `/api/v1/commissions?programId=${programId}&partnerId=${partner.id}`)).json().data;
  expect(commissions.map((c: { status: string }) => c.status)).toEqual(['held']);
  const queue = (await api('GET', `/api/v1/reviews?programId=${programId}&status=held`)).json().data;
  expect(queue.map((item: { commission?: { id: string }; commissionId?: string }) => item.commission?.id ?? item.commissionId)).toContain(commissions[0].id);
  // Subscribers, who saw the commission created as pending, hear that it is held.
  const held = await ctx.pool.query(`select data from outbox_events where workspace_id = $1 and type = 'commission.held'`, [brand.workspaceId]);
  expect(held.rows.map((r) => r.data)).toEqual([expect.objectContaining({ id: commissions[0].id, status: 'held', reason: 'Fake traffic' })]);
});

it('banning holds what the partner is owed but never what it owes: a clawback stays payable, to net against later payouts', async () => {
  const brand = await signupActor(ctx.app);
  const api = asKey(ctx.app, brand.apiKey);
  const program = await api('POST', '/api/v1/programs', { name: 'Ban Debt', currency: 'USD', destinationUrl: 'https://shop.example.com/', rules: { sale: { type: 'percentage', amount: 10 } } });
  const programId = program.json().id;
  const { partner, enrollment } = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail('debtor'), name: 'Dee', status: 'approved' })).json();
  const sell = (n: number) => api('POST', '/api/v1/track/sale', { customer: { externalId: `c-debt-${n}` }, amount: 5000, currency: 'USD', invoiceId: `INV-DEBT-${n}`, couponCode: enrollment.couponCode });
  expect((await sell(1)).statusCode).toBe(200);
  // Paid out, then refunded: a clawback of -500, payable.
  expect((await api('POST', '/api/v1/jobs/mature', { asOf: new Date(ctx.clock.now.getTime() + 400 * 86_400_000).toISOString() })).statusCode).toBe(200);
  const batch = (await api('POST', '/api/v1/payouts', { programId, minAmount: 0 })).json();
  expect(batch.payouts).toEqual([expect.objectContaining({ amount: 500 })]);
  expect((await api('POST', `/api/v1/payouts/${batch.payouts[0].id}/mark-paid`, { reference: 'WIRE-1' })).statusCode).toBe(200);
  expect((await api('POST', '/api/v1/track/refund', { invoiceId: 'INV-DEBT-1' })).statusCode).toBe(200);
  expect((await sell(2)).json()).toMatchObject({ commission: { amount: 500, status: 'pending' } });

  expect((await api('POST', `/api/v1/enrollments/${enrollment.id}/status`, { status: 'banned', reason: 'Fake traffic' })).statusCode).toBe(200);
  const commissions = (await api('GET', `/api/v1/commissions?programId=${programId}&partnerId=${partner.id}`)).json().data as { kind: string; amount: number; status: string }[];
  expect(commissions.map((c) => [c.kind, c.amount, c.status]).sort()).toEqual([
    ['clawback', -500, 'payable'],
    ['sale', 500, 'held'],
    ['sale', 500, 'paid'],
  ]);
});

it('remembers the address a partner uses the portal from, hashed as click IPs are', async () => {
  const brand = await signupActor(ctx.app);
  const api = asKey(ctx.app, brand.apiKey);
  const program = await api('POST', '/api/v1/programs', { name: 'Portal IP', currency: 'USD', destinationUrl: 'https://shop.example.com/' });
  const email = uniqueEmail('portal-ip');
  const added = (await api('POST', `/api/v1/programs/${program.json().id}/partners`, { email, name: 'Pia' })).json();
  const signup = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/signup', payload: { email, password: 'portal password 1', name: 'Pia' }, remoteAddress: '203.0.113.9' });
  expect(signup.statusCode).toBe(201);
  const cookie = signup.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  await verifyPortalEmailForTest(ctx, { userId: signup.json().user.id, email, cookie, csrf: signup.json().csrfToken });
  const list = await ctx.app.inject({ method: 'GET', url: '/api/v1/portal/enrollments', headers: { cookie }, remoteAddress: '203.0.113.9' });
  expect(list.statusCode).toBe(200);
  const { rows } = await ctx.pool.query(`select value_hash from partner_identities where workspace_id = $1 and partner_id = $2 and kind = 'ip_hash'`, [brand.workspaceId, added.partner.id]);
  expect(rows).toHaveLength(1);
  expect(rows[0].value_hash).not.toContain('203.0.113.9');
});
