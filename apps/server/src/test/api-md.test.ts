import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { endpoints, errorStatus, type Endpoint } from '@tandem/contracts';
import { asKey, cookieHeader, createTestContext, signupActor, type Actor, type TestContext } from './harness.js';

/*
 * The public contract of /work/shared/spec/api.md, walked end to end the way an integrator would:
 * over HTTP only, with exact status codes and field names. Each `it` is one step of the path and
 * depends on the ones before it (vitest runs them in order), so a failure names the first step
 * where the implementation leaves the contract.
 */

const NOW = new Date('2026-06-15T12:00:00.000Z');
const DAY = 86_400_000;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const BROWSER_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';

type Api = ReturnType<typeof asKey>;
let ctx: TestContext;
/** The integrator's workspace; after the first suite it holds one of nearly everything. */
let brand: Actor;

beforeAll(async () => {
  // Webhook deliveries go to a receiver on 127.0.0.1 in this suite.
  ctx = await createTestContext({ now: NOW, env: { TANDEM_WEBHOOKS_ALLOW_PRIVATE: '1' } });
});
afterAll(async () => ctx?.close());

/** Asserts the api.md error body: `{error: {code, message, details?}}` and the code's status. */
function expectError(res: { statusCode: number; json(): unknown }, code: keyof typeof errorStatus): { code: string; message: string; details?: { path: string; message: string }[] } {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(errorStatus[code]);
  const body = res.json() as { error: { code: string; message: string; details?: { path: string; message: string }[] } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

/** Every string value under a key ending in `At` must be ISO-8601 UTC. */
function expectIsoTimestamps(value: unknown, path = '$'): void {
  if (Array.isArray(value)) value.forEach((v, i) => expectIsoTimestamps(v, `${path}[${i}]`));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (/At$/.test(k) && typeof v === 'string') expect(v, `${path}.${k}`).toMatch(ISO_UTC);
      expectIsoTimestamps(v, `${path}.${k}`);
    }
  }
}

describe('the integrator path of api.md', () => {
  let api: Api;
  let programId: string;
  let programSlug: string;
  let partnerId: string;
  let couponCode: string;
  let linkKey: string;
  let clickId: string;
  let commissionId: string;
  let payoutId: string;
  let batchId: string;

  it('GET /healthz → 200 {status, db}', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    // The database this suite runs on: embedded by default, external with DATABASE_URL.
    expect(res.json()).toEqual({ status: 'ok', db: inject('pgKind') });
  });

  it('GET /api/openapi.json → an OpenAPI 3.1 document of every api.md path', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\.1/);
    for (const p of ['/api/v1/auth/signup', '/api/v1/programs/{id}', '/api/v1/track/sale', '/api/v1/payouts/{id}/mark-paid', '/api/v1/customers/{externalId}/export', '/api/v1/partnerships/{id}/balance']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });

  it('POST /api/v1/auth/signup → 201 {user:{id,email,name}, workspace:{id,name,slug}, apiKey} and a session cookie', async () => {
    const email = `integrator-${Date.now()}@example.com`;
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, password: 'correct horse battery', name: 'Ivy Integrator', workspaceName: 'Ivy Shop' } });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toMatchObject({ id: expect.any(String), email, name: 'Ivy Integrator' });
    expect(body.workspace).toMatchObject({ id: expect.stringMatching(/^ws_/), name: 'Ivy Shop', slug: expect.any(String) });
    expect(body.apiKey).toMatch(/^tdm_sk_/);
    expect(res.cookies.length).toBeGreaterThan(0);
    brand = { apiKey: body.apiKey, cookie: cookieHeader(res), csrf: body.csrfToken, userId: body.user.id, workspaceId: body.workspace.id, workspaceSlug: body.workspace.slug, email };
    api = asKey(ctx.app, brand.apiKey);

    expectError(await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, password: 'correct horse battery', name: 'Again', workspaceName: 'Again' } }), 'conflict');
    const short = expectError(await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email: 'short@example.com', password: 'nine char', name: 'S', workspaceName: 'S' } }), 'unprocessable');
    expect(short.details?.map((d) => d.path)).toContain('password');
  });

  it('POST /api/v1/auth/login → 200 {user, workspaces} + cookie; a wrong password → 401', async () => {
    const ok = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: brand.email, password: 'correct horse battery' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ user: { id: brand.userId }, workspaces: expect.arrayContaining([expect.objectContaining({ id: brand.workspaceId })]) });
    expect(ok.cookies.length).toBeGreaterThan(0);
    expectError(await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: brand.email, password: 'wrong password!' } }), 'unauthorized');
  });

  it('API keys: create → 201 {id,name,scopes,key} once; list never shows the key; revoke → the key is 401 at once', async () => {
    const created = await api('POST', '/api/v1/api-keys', { name: 'CI', scopes: ['read'] });
    expect(created.statusCode).toBe(201);
    const key = created.json();
    expect(key).toMatchObject({ id: expect.any(String), name: 'CI', scopes: ['read'], key: expect.stringMatching(/^tdm_sk_/) });
    const readOnly = asKey(ctx.app, key.key);
    expect((await readOnly('GET', '/api/v1/me')).statusCode).toBe(200);
    // A read key on a write endpoint: authenticated but not allowed.
    expectError(await readOnly('POST', '/api/v1/programs', { name: 'x', currency: 'USD', destinationUrl: 'https://x.example.com/' }), 'forbidden');

    const list = await api('GET', '/api/v1/api-keys');
    expect(list.statusCode).toBe(200);
    expect(list.json().data.map((k: { id: string }) => k.id)).toContain(key.id);
    expect(list.body).not.toContain(key.key);

    const revoked = await api('DELETE', `/api/v1/api-keys/${key.id}`);
    expect(revoked.statusCode).toBeLessThan(300);
    expectError(await readOnly('GET', '/api/v1/me'), 'unauthorized');
  });

  it('GET /api/v1/me answers who is calling; with no credentials → 401', async () => {
    const me = await api('GET', '/api/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.body).toContain(brand.workspaceId);
    expectError(await ctx.app.inject({ method: 'GET', url: '/api/v1/me' }), 'unauthorized');
  });

  it('POST /api/v1/auth/logout ends the session: its cookie is 401 afterwards', async () => {
    const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: brand.email, password: 'correct horse battery' } });
    const cookie = cookieHeader(login);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie } })).statusCode).toBe(200);
    const out = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie, 'x-csrf-token': login.json().csrfToken } });
    expect(out.statusCode).toBe(204);
    expectError(await ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie } }), 'unauthorized');
  });

  it('POST /api/v1/programs → 201 {id, name, slug, currency, …, rulesVersion, termsVersion}', async () => {
    const res = await api('POST', '/api/v1/programs', {
      name: 'Ivy Referrals',
      currency: 'USD',
      destinationUrl: 'https://shop.example.com/welcome',
      allowedDomains: ['shop.example.com'],
      attribution: { windowDays: 30, model: 'last_touch' },
      rules: { lead: { type: 'flat', amount: 400 }, sale: { type: 'percentage', amount: 10 }, qualification: { holdDays: 30 } },
      terms: { text: 'Be honest about the product.' },
      approval: { mode: 'manual' },
      status: 'active',
    });
    expect(res.statusCode).toBe(201);
    const p = res.json();
    expect(p).toMatchObject({ id: expect.stringMatching(/^prg_/), name: 'Ivy Referrals', slug: expect.any(String), currency: 'USD', rulesVersion: 1, termsVersion: 1 });
    expect(p.attribution).toEqual({ windowDays: 30, model: 'last_touch' });
    expect(p.approval).toMatchObject({ mode: 'manual' });
    expectIsoTimestamps(p);
    programId = p.id;
    programSlug = p.slug;
  });

  it('POST /api/v1/programs validates attribution.windowDays 1–365 with a detail naming the field', async () => {
    const bad = expectError(await api('POST', '/api/v1/programs', { name: 'Bad', currency: 'USD', destinationUrl: 'https://x.example.com/', attribution: { windowDays: 366 } }), 'unprocessable');
    expect(bad.details?.map((d) => d.path)).toContain('attribution.windowDays');
    // Nested paths in the rules document (rewards.md: unknown keys are a 422 naming the path).
    const rules = expectError(await api('POST', '/api/v1/programs', { name: 'Bad rules', currency: 'USD', destinationUrl: 'https://x.example.com/', rules: { sale: { type: 'percentage', amount: 'ten' }, bogus: true } }), 'unprocessable');
    const paths = rules.details?.map((d) => d.path) ?? [];
    expect(paths).toContain('rules.sale.amount');
    expect(paths.some((p) => p === 'rules.bogus' || (p === 'rules' && rules.details!.some((d) => d.message.includes('bogus'))))).toBe(true);
  });

  it('GET /api/v1/programs and /:id; PATCH of rules or terms bumps its version', async () => {
    const list = await api('GET', '/api/v1/programs');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ data: [expect.objectContaining({ id: programId })], nextCursor: null });
    expect((await api('GET', `/api/v1/programs/${programId}`)).json()).toMatchObject({ id: programId, rulesVersion: 1, termsVersion: 1 });
    const patched = await api('PATCH', `/api/v1/programs/${programId}`, { rules: { lead: { type: 'flat', amount: 500 }, sale: { type: 'percentage', amount: 10 }, qualification: { holdDays: 30 } }, terms: { text: 'Be honest about the product. Really.' } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ rulesVersion: 2, termsVersion: 2 });
    // Saving the same document again is no change, so no new version.
    const same = await api('PATCH', `/api/v1/programs/${programId}`, { rules: patched.json().rules });
    expect(same.json()).toMatchObject({ rulesVersion: 2, termsVersion: 2 });
  });

  it('POST /api/v1/programs/:id/partners (approved) → 201 {partner:{id,email,name,tags}, enrollment:{id,status,couponCode}, link:{id,key,shortUrl}}', async () => {
    const res = await api('POST', `/api/v1/programs/${programId}/partners`, { email: 'pat@example.com', name: 'Pat Partner', tags: ['launch'], status: 'approved' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.partner).toMatchObject({ id: expect.stringMatching(/^ptn_/), email: 'pat@example.com', name: 'Pat Partner', tags: ['launch'] });
    expect(body.enrollment).toMatchObject({ id: expect.stringMatching(/^enr_/), status: 'approved', couponCode: expect.any(String) });
    expect(body.link).toMatchObject({ id: expect.stringMatching(/^lnk_/), key: expect.any(String), shortUrl: expect.stringContaining(body.link.key) });
    partnerId = body.partner.id;
    couponCode = body.enrollment.couponCode;

    const list = await api('GET', `/api/v1/programs/${programId}/partners`);
    expect(list.statusCode).toBe(200);
    expect(list.json().data.map((e: { partner: { id: string } }) => e.partner.id)).toEqual([partnerId]);
    expect(list.json().nextCursor).toBeNull();
    // The brand vouches for the agreement: the terms version in force (2, after the PATCH) counts as accepted.
    expect(list.json().data[0]).toMatchObject({ status: 'approved', acceptedTermsVersion: 2, couponCode });
  });

  it('POST /api/v1/programs/:id/partners with status "invited" → an invited enrollment, no link and no coupon yet', async () => {
    const res = await api('POST', `/api/v1/programs/${programId}/partners`, { email: 'invitee@example.com', name: 'Ina Invitee', status: 'invited' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ partner: { id: expect.stringMatching(/^ptn_/), email: 'invitee@example.com', name: 'Ina Invitee', tags: [] }, enrollment: { status: 'invited', couponCode: null }, link: null });
  });

  it('POST /api/v1/public/programs/:slug/applications (no auth) → 201 {id, status}', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: `/api/v1/public/programs/${programSlug}/applications`, payload: { name: 'Applicant', email: 'applicant@example.com', website: 'https://applicant.example.com', message: 'Hi' } });
    expect(res.statusCode).toBe(201);
    // Manual approval: the application waits for the brand.
    expect(res.json()).toMatchObject({ id: expect.stringMatching(/^app_/), status: 'applied' });
  });

  it('POST /api/v1/links → 201 {id, key, shortUrl, destinationUrl}; foreign domain → 422; a taken key → 409', async () => {
    const res = await api('POST', '/api/v1/links', { programId, partnerId, key: 'ivy-pat', destinationUrl: 'https://shop.example.com/pricing' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: expect.stringMatching(/^lnk_/), key: 'ivy-pat', shortUrl: expect.stringContaining('ivy-pat'), destinationUrl: 'https://shop.example.com/pricing' });
    linkKey = res.json().key;
    expectError(await api('POST', '/api/v1/links', { programId, partnerId, destinationUrl: 'https://evil.example.org/' }), 'unprocessable');
    expectError(await api('POST', '/api/v1/links', { programId, partnerId, key: 'ivy-pat' }), 'conflict');
  });

  it('GET /r/:key → 302 with tdm_click on Location and a tdm_click cookie whose Max-Age is the window; a repeat visit reuses it; unknown → 404', async () => {
    const visit = () => ctx.app.inject({ method: 'GET', url: `/r/${linkKey}`, headers: { 'user-agent': BROWSER_UA }, remoteAddress: '198.51.100.7' });
    const res = await visit();
    expect(res.statusCode).toBe(302);
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe('https://shop.example.com/pricing');
    clickId = location.searchParams.get('tdm_click')!;
    expect(clickId).toMatch(/^clk_[0-9a-f]{32}$/);
    const cookie = res.cookies.find((c) => c.name === 'tdm_click');
    expect(cookie?.value).toBe(clickId);
    expect(cookie?.maxAge).toBe(30 * 24 * 3600);
    const again = await visit();
    expect(new URL(again.headers.location as string).searchParams.get('tdm_click')).toBe(clickId);
    const unknown = await ctx.app.inject({ method: 'GET', url: '/r/no-such-key-here', headers: { 'user-agent': BROWSER_UA } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('text/html');
  });

  it('POST /api/v1/track/lead with the click → 200 {customer:{id,externalId}, attributed, partnerId, commission?:{id,amount,status}}; a repeat returns the same body', async () => {
    const payload = { clickId, customer: { externalId: 'cust-1', email: 'cust1@example.com', name: 'Casey', country: 'US' }, eventName: 'signup' };
    const res = await api('POST', '/api/v1/track/lead', payload);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ customer: { id: expect.stringMatching(/^cus_/), externalId: 'cust-1' }, attributed: true, partnerId });
    expect(body.commission).toEqual({ id: expect.stringMatching(/^com_/), amount: 500, status: 'pending' });
    const again = await api('POST', '/api/v1/track/lead', payload);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(body);
    // Another event of the same customer is a new lead, but the lead reward is once per (partner, customer).
    const other = await api('POST', '/api/v1/track/lead', { ...payload, eventName: 'trial_started' });
    expect(other.statusCode).toBe(200);
    expect(other.json()).toMatchObject({ attributed: true, partnerId });
    if (other.json().commission) expect(other.json().commission.id).toBe(body.commission.id);
    const leads = (await api('GET', `/api/v1/commissions?programId=${programId}&partnerId=${partnerId}&limit=100`)).json().data.filter((c: { kind: string }) => c.kind === 'lead');
    expect(leads).toHaveLength(1);
  });

  it('occurredAt more than 5 minutes in the future → 422', async () => {
    const future = new Date(NOW.getTime() + 10 * 60_000).toISOString();
    expectError(await api('POST', '/api/v1/track/lead', { customer: { externalId: 'cust-future' }, occurredAt: future }), 'unprocessable');
  });

  it('POST /api/v1/track/sale → 200 {sale:{id}, attributed, partnerId, commission}; the same invoice again returns the same body', async () => {
    const payload = { customer: { externalId: 'cust-1' }, amount: 20_000, currency: 'USD', invoiceId: 'inv-1001', productId: 'pro-plan' };
    const res = await api('POST', '/api/v1/track/sale', payload);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ sale: { id: expect.stringMatching(/^sal_/) }, attributed: true, partnerId, commission: { id: expect.stringMatching(/^com_/), amount: 2000, status: 'pending' } });
    commissionId = body.commission.id;
    const again = await api('POST', '/api/v1/track/sale', payload);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(body);
  });

  it('a sale for an unknown customer with a coupon code creates the customer and attributes it', async () => {
    const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'cust-coupon' }, amount: 5_000, currency: 'USD', invoiceId: 'inv-coupon', couponCode });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ attributed: true, partnerId, commission: { amount: 500 } });
  });

  it('POST /api/v1/track/refund (partial) → 200 {refund:{id}, adjustments:[{commissionId, amount}]}; unknown invoice → 404', async () => {
    const res = await api('POST', '/api/v1/track/refund', { invoiceId: 'inv-1001', amount: 5_000 });
    expect(res.statusCode).toBe(200);
    // api.md fields, exactly; extra fields (refund.amount, sale) are allowed extensions.
    expect(res.json()).toMatchObject({ refund: { id: expect.any(String) } });
    expect(res.json().adjustments).toEqual([{ commissionId, amount: -500 }]);
    expectError(await api('POST', '/api/v1/track/refund', { invoiceId: 'inv-unknown' }), 'not_found');
  });

  it('GET /api/v1/commissions?programId&partnerId&status → items with exactly the api.md fields', async () => {
    const res = await api('GET', `/api/v1/commissions?programId=${programId}&partnerId=${partnerId}&status=pending`);
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page).toHaveProperty('nextCursor');
    expect(page.data.length).toBeGreaterThan(0);
    const kinds = ['lead', 'sale', 'bonus', 'clawback', 'adjustment'];
    for (const c of page.data) {
      for (const field of ['id', 'programId', 'partnerId', 'kind', 'amount', 'currency', 'status', 'rulesVersion', 'termsVersion', 'occurredAt', 'payableAt']) expect(c, field).toHaveProperty(field);
      expect(c.id).toMatch(/^com_/);
      expect(c).toMatchObject({ programId, partnerId, currency: 'USD', status: 'pending' });
      expect(kinds).toContain(c.kind);
      expect(Number.isInteger(c.amount)).toBe(true);
      expectIsoTimestamps(c);
    }
    const sale = page.data.find((c: { id: string }) => c.id === commissionId);
    expect(sale).toMatchObject({ kind: 'sale', amount: 2000, rulesVersion: 2, termsVersion: 2, saleId: expect.stringMatching(/^sal_/), customerId: expect.stringMatching(/^cus_/) });
    expect(sale.payableAt).toBe(new Date(NOW.getTime() + 30 * DAY).toISOString());
    expectError(await api('GET', `/api/v1/commissions?status=bogus`), 'unprocessable');
  });

  it('POST /api/v1/jobs/mature needs the admin scope (a write key → 403)', async () => {
    const writer = (await api('POST', '/api/v1/api-keys', { name: 'writer', scopes: ['read', 'write'] })).json();
    expectError(await asKey(ctx.app, writer.key)('POST', '/api/v1/jobs/mature', {}), 'forbidden');
    expectError(await asKey(ctx.app, writer.key)('POST', '/api/v1/payouts', { programId }), 'forbidden');
  });

  it('POST /api/v1/jobs/mature {asOf} → 200 {payable, qualified, bonuses}; idempotent', async () => {
    ctx.clock.advance(31 * DAY);
    const asOf = ctx.clock.now.toISOString();
    const res = await api('POST', '/api/v1/jobs/mature', { asOf });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['bonuses', 'payable', 'qualified']);
    expect(body.payable).toBeGreaterThan(0);
    expect((await api('POST', '/api/v1/jobs/mature', { asOf })).json()).toEqual({ payable: 0, qualified: 0, bonuses: 0 });
  });

  it('GET /api/v1/partners/:id/balance?programId → {currency, pending, payable, paid}', async () => {
    const res = await api('GET', `/api/v1/partners/${partnerId}/balance?programId=${programId}`);
    expect(res.statusCode).toBe(200);
    // lead 500 + sale 2000 + coupon sale 500 − refund 500
    expect(res.json()).toEqual({ currency: 'USD', pending: 0, payable: 2500, paid: 0 });
  });

  it('POST /api/v1/payouts → 201 {batchId, payouts:[{id, partnerId, amount, currency, status:"pending"}]}', async () => {
    const res = await api('POST', '/api/v1/payouts', { programId, minAmount: 100 });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.batchId).toEqual(expect.any(String));
    expect(body.payouts).toEqual([expect.objectContaining({ id: expect.stringMatching(/^pay_/), partnerId, amount: 2500, currency: 'USD', status: 'pending' })]);
    payoutId = body.payouts[0].id;
    batchId = body.batchId;
  });

  it('POST /api/v1/payouts/:id/mark-paid {reference} → the payout and its commissions become paid', async () => {
    const res = await api('POST', `/api/v1/payouts/${payoutId}/mark-paid`, { reference: 'WIRE-42' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: payoutId, status: 'paid' });
    const paid = (await api('GET', `/api/v1/commissions?programId=${programId}&partnerId=${partnerId}&status=paid`)).json().data;
    expect(paid.map((c: { id: string }) => c.id)).toContain(commissionId);
    expect((await api('GET', `/api/v1/partners/${partnerId}/balance?programId=${programId}`)).json()).toEqual({ currency: 'USD', pending: 0, payable: 0, paid: 2500 });
  });

  it('GET /api/v1/payouts?programId is a {data, nextCursor} list; the batch CSV is text/csv with the payout', async () => {
    const list = await api('GET', `/api/v1/payouts?programId=${programId}`);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ data: [expect.objectContaining({ id: payoutId, status: 'paid' })], nextCursor: null });
    const csv = await api('GET', `/api/v1/payouts/batches/${batchId}.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body).toContain(payoutId);
  });

  it('GET /api/v1/ledger/verify → {ok, entries, head}', async () => {
    const res = await api('GET', '/api/v1/ledger/verify');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, entries: expect.any(Number), head: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(res.json().entries).toBeGreaterThan(0);
  });

  describe('reciprocal partnerships', () => {
    let other: Actor;
    let otherApi: Api;
    let otherProgramId: string;
    let partnershipId: string;

    beforeAll(async () => {
      other = await signupActor(ctx.app, { workspaceName: 'Other Brand' });
      otherApi = asKey(ctx.app, other.apiKey);
      otherProgramId = (await otherApi('POST', '/api/v1/programs', { name: 'Other Program', currency: 'USD', destinationUrl: 'https://other.example.com/', status: 'active' })).json().id;
    });

    it('POST /api/v1/partnerships → 201 {id, status:"invited"}', async () => {
      const res = await api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: other.workspaceSlug, programId, message: 'Cross-promote?' });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ id: expect.stringMatching(/^psh_/), status: 'invited' });
      partnershipId = res.json().id;
    });

    it('POST /api/v1/partnerships/:id/accept by the invited workspace → each brand an approved partner in the other’s program', async () => {
      const res = await otherApi('POST', `/api/v1/partnerships/${partnershipId}/accept`, { programId: otherProgramId });
      expect(res.statusCode).toBe(200);
      const inMine = (await api('GET', `/api/v1/programs/${programId}/partners`)).json().data;
      expect(inMine.find((e: { partner: { email: string } }) => e.partner.email === other.email.toLowerCase())).toMatchObject({ status: 'approved' });
      const inTheirs = (await otherApi('GET', `/api/v1/programs/${otherProgramId}/partners`)).json().data;
      expect(inTheirs).toHaveLength(1);
      expect(inTheirs[0]).toMatchObject({ status: 'approved' });
    });

    it('GET /api/v1/partnerships/:id/balance → per direction {clicks, referrals, revenue, commissions} and net {owedByWorkspaceId, amount, currency}', async () => {
      const res = await api('GET', `/api/v1/partnerships/${partnershipId}/balance`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.directions).toHaveLength(2);
      for (const d of body.directions) for (const f of ['clicks', 'referrals', 'revenue', 'commissions']) expect(d).toHaveProperty(f);
      expect(body.net).toMatchObject({ owedByWorkspaceId: null, amount: 0, currency: 'USD' });
    });
  });

  it('POST /api/v1/webhooks → 201 {id, url, events, secret} with secret whsec_ + base64', async () => {
    const res = await api('POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/tandem', events: ['sale.created'] });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ id: expect.any(String), url: 'https://hooks.example.com/tandem', events: ['sale.created'] });
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(body.secret.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24);
    const deliveries = await api('GET', `/api/v1/webhooks/${body.id}/deliveries`);
    expect(deliveries.statusCode).toBe(200);
    expect(deliveries.json()).toHaveProperty('data');
    const all = await api('POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/all', events: ['*'] });
    expect(all.statusCode).toBe(201);
  });

  it('GET /api/v1/customers/:externalId/export → everything held about the customer', async () => {
    const res = await api('GET', '/api/v1/customers/cust-1/export');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    // The email is only ever stored as a keyed hash (tracking), so the name is the personal datum to find.
    expect(res.body).toContain('Casey');
    expect(res.body).toContain('inv-1001');
    expect(res.body).toContain(commissionId);
    expectError(await api('GET', '/api/v1/customers/nobody/export'), 'not_found');
  });

  it('GET /api/v1/customers/:externalId/export uses the API conventions: camelCase fields, prefixed ids (clk_…), ISO-8601 …Z timestamps', async () => {
    const dump = (await api('GET', '/api/v1/customers/cust-1/export')).json();
    const walk = (value: unknown, visit: (key: string, v: unknown) => void): void => {
      if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) { visit(k, v); if (k !== 'data' && k !== 'response') walk(v, visit); }
    };
    walk(dump, (key, v) => {
      expect(key, 'camelCase keys').not.toMatch(/_/);
      if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) expect(v, key).toMatch(/Z$/);
      if (typeof v === 'string') expect(v, key).not.toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    });
    expect(dump.customer).toMatchObject({ externalId: 'cust-1' });
  });

  it('DELETE /api/v1/customers/:externalId → 204; personal data gone, money kept, the ledger still verifies', async () => {
    const res = await api('DELETE', '/api/v1/customers/cust-1');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const after = await api('GET', '/api/v1/customers/cust-1/export');
    expect(after.body).not.toContain('Casey');
    expect((await api('GET', `/api/v1/partners/${partnerId}/balance?programId=${programId}`)).json()).toEqual({ currency: 'USD', pending: 0, payable: 0, paid: 2500 });
    expect((await api('GET', '/api/v1/ledger/verify')).json()).toMatchObject({ ok: true });
  });

  // Attribution details, after the money checks above so their commissions do not move those balances.
  it('a sale for an unknown customer with a clickId creates the customer; repeats of an invoice racing each other answer the same body', async () => {
    // Stamped the day after the click: the clock has moved past the window since.
    const payload = { customer: { externalId: 'cust-click' }, amount: 1_000, currency: 'USD', invoiceId: 'inv-race', clickId, occurredAt: new Date(NOW.getTime() + DAY).toISOString() };
    const answers = await Promise.all(Array.from({ length: 5 }, () => api('POST', '/api/v1/track/sale', payload)));
    for (const res of answers) expect(res.statusCode).toBe(200);
    const bodies = answers.map((r) => r.json());
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(bodies[0]).toMatchObject({ attributed: true, partnerId, commission: { amount: 100, status: 'pending' } });
    const sales = (await api('GET', '/api/v1/sales?limit=100')).json().data.filter((x: { invoiceId?: string }) => x.invoiceId === 'inv-race');
    expect(sales).toHaveLength(1);
  });

  it('a coupon code attributes with no window, long after any click', async () => {
    const res = await api('POST', '/api/v1/track/lead', { couponCode, customer: { externalId: 'cust-coupon-late' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ attributed: true, partnerId });
  });

  it('a click attributes a lead only within windowDays of it (and the 5-minute skew on the right)', async () => {
    const clickTime = NOW.getTime();
    const late = new Date(clickTime + 30 * DAY + 60_000).toISOString();
    const outside = await api('POST', '/api/v1/track/lead', { clickId, customer: { externalId: 'cust-late' }, occurredAt: late });
    expect(outside.statusCode).toBe(200);
    expect(outside.json()).toMatchObject({ attributed: false });
    const justInside = new Date(clickTime + 30 * DAY - 60_000).toISOString();
    expect((await api('POST', '/api/v1/track/lead', { clickId, customer: { externalId: 'cust-in-window' }, occurredAt: justInside })).json()).toMatchObject({ attributed: true, partnerId });
    // A lead stamped 4 minutes before the click: within the allowed clock skew.
    const skewed = new Date(clickTime - 4 * 60_000).toISOString();
    expect((await api('POST', '/api/v1/track/lead', { clickId, customer: { externalId: 'cust-skew' }, occurredAt: skewed })).json()).toMatchObject({ attributed: true });
  });

  describe('webhook deliveries follow Standard Webhooks', () => {
    const received: { headers: http.IncomingHttpHeaders; raw: string }[] = [];
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, raw });
        res.statusCode = 204;
        res.end();
      });
    });
    beforeAll(async () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('headers webhook-id, webhook-timestamp (unix seconds), webhook-signature v1,base64(HMAC-SHA256(secret, id.timestamp.body)); body {type, timestamp, data}', async () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const created = await api('POST', '/api/v1/webhooks', { url, events: ['sale.created'] });
      expect(created.statusCode).toBe(201);
      const { id: webhookId, secret } = created.json();
      const sale = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'cust-hook' }, amount: 3_000, currency: 'USD', invoiceId: 'inv-hook', couponCode });
      expect(sale.statusCode).toBe(200);
      await ctx.services.queue.enqueue('webhooks.dispatch', {}, { uniqueKey: 'webhooks.dispatch' });
      await ctx.services.queue.enqueue('webhooks.deliver', {}, { uniqueKey: 'webhooks.deliver' });
      await ctx.services.queue.drain();

      // The dispatcher has not run in this suite before, so earlier sales of the outbox go out now too;
      // the delivery of this sale is the one to inspect.
      const mine = received.filter((r) => JSON.parse(r.raw).data?.invoiceId === 'inv-hook');
      expect(mine).toHaveLength(1);
      const { headers, raw } = mine[0]!;
      const id = String(headers['webhook-id']);
      const timestamp = String(headers['webhook-timestamp']);
      expect(timestamp).toMatch(/^\d{10}$/);
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${raw}`).digest();
      const signatures = String(headers['webhook-signature']).split(' ');
      expect(signatures.some((sig) => sig.startsWith('v1,') && timingSafeEqual(Buffer.from(sig.slice(3), 'base64'), expected))).toBe(true);
      const body = JSON.parse(raw);
      expect(Object.keys(body).sort()).toEqual(['data', 'timestamp', 'type']);
      expect(body.type).toBe('sale.created');
      expect(body.timestamp).toMatch(ISO_UTC);
      expect(body.data).toMatchObject({ id: sale.json().sale.id, invoiceId: 'inv-hook', amount: 3_000, currency: 'USD' });

      const deliveries = await api('GET', `/api/v1/webhooks/${webhookId}/deliveries`);
      expect(deliveries.statusCode).toBe(200);
      expect(deliveries.json().data.length).toBe(received.length);
      for (const d of deliveries.json().data) expect(d).toMatchObject({ eventType: 'sale.created', status: 'delivered' });
    });
  });

  describe('POST /api/v1/integrations/stripe/webhook', () => {
    const stripeSecret = 'whsec_stripe_conformance_0123456789';
    const signed = (body: string, secret = stripeSecret) => {
      const t = Math.floor(ctx.clock.now.getTime() / 1000);
      return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
    };
    const deliver = (body: string, signature: string) =>
      ctx.app.inject({ method: 'POST', url: `/api/v1/integrations/stripe/webhook?workspace=${brand.workspaceId}`, headers: { 'content-type': 'application/json', 'stripe-signature': signature }, payload: body });

    it('verifies Stripe-Signature against the endpoint secret and maps a paid checkout to an attributed sale', async () => {
      expect((await api('PUT', '/api/v1/integrations/stripe', { endpointSecret: stripeSecret })).statusCode).toBe(200);
      const visit = await ctx.app.inject({ method: 'GET', url: `/r/${linkKey}`, headers: { 'user-agent': BROWSER_UA }, remoteAddress: '198.51.100.99' });
      const freshClick = new URL(visit.headers.location as string).searchParams.get('tdm_click')!;
      // A month later the same visitor gets a new click: reuse only holds within the hour.
      expect(freshClick).toMatch(/^clk_[0-9a-f]{32}$/);
      expect(freshClick).not.toBe(clickId);
      const created = Math.floor(ctx.clock.now.getTime() / 1000) - 60;
      const event = JSON.stringify({
        id: 'evt_conformance_1',
        type: 'checkout.session.completed',
        created,
        data: { object: { id: 'cs_conformance_1', object: 'checkout.session', amount_total: 4_900, currency: 'usd', payment_status: 'paid', payment_intent: 'pi_conformance_1', invoice: null, customer: 'cus_stripe_conformance', customer_details: { email: 'stripe@example.com', name: 'Stripe Buyer', address: { country: 'FR' } }, client_reference_id: freshClick, metadata: {}, created } },
      });
      const forged = await deliver(event, signed(event, 'whsec_someone_else'));
      expectError(forged, 'bad_request');
      const ok = await deliver(event, signed(event));
      expect(ok.statusCode).toBe(200);
      const sales = (await api('GET', '/api/v1/sales?limit=100')).json().data;
      expect(sales.find((x: { amount: number; partnerId?: string }) => x.amount === 4_900)).toMatchObject({ partnerId });
    });
  });

});

describe('the conventions of api.md', () => {
  let a: Actor;
  let b: Actor;
  let apiA: Api;
  let apiB: Api;
  let programA: string;

  beforeAll(async () => {
    a = await signupActor(ctx.app);
    b = await signupActor(ctx.app);
    apiA = asKey(ctx.app, a.apiKey);
    apiB = asKey(ctx.app, b.apiKey);
    programA = (await apiA('POST', '/api/v1/programs', { name: 'Conventions', currency: 'EUR', destinationUrl: 'https://conv.example.com/', status: 'active' })).json().id;
  });

  it('every listed error code renders with its status and the {error:{code,message,details?}} body', async () => {
    expect(errorStatus).toEqual({ bad_request: 400, unauthorized: 401, forbidden: 403, not_found: 404, conflict: 409, unprocessable: 422, rate_limited: 429, internal: 500 });
    // bad_request: a body that is not JSON at all
    expectError(await ctx.app.inject({ method: 'POST', url: '/api/v1/programs', headers: { authorization: `Bearer ${a.apiKey}`, 'content-type': 'application/json' }, payload: '{"name": ' }), 'bad_request');
    expectError(await ctx.app.inject({ method: 'GET', url: '/api/v1/programs', headers: { authorization: 'Bearer tdm_sk_not_a_real_key' } }), 'unauthorized');
    expectError(await apiA('GET', '/api/v1/programs/prg_doesnotexist'), 'not_found');
    expectError(await apiA('GET', '/api/v1/no-such-endpoint'), 'not_found');
    const dup = await apiA('POST', `/api/v1/programs/${programA}/partners`, { email: 'dup@example.com', name: 'Dup', status: 'approved' });
    expect(dup.statusCode).toBe(201);
    expectError(await apiA('POST', `/api/v1/programs/${programA}/partners`, { email: 'dup@example.com', name: 'Dup', status: 'approved' }), 'conflict');
    const bad = expectError(await apiA('POST', '/api/v1/programs', { name: '', currency: 'USD', destinationUrl: 'not a url' }), 'unprocessable');
    expect(bad.details?.map((d) => d.path).sort()).toEqual(['destinationUrl', 'name']);
  });

  it('rate_limited → 429 with the error body', async () => {
    const limited = await createTestContext({ limits: { apiPerKeyPerSecond: 2 } });
    try {
      const actor = await signupActor(limited.app);
      const call = asKey(limited.app, actor.apiKey);
      const results = [];
      for (let i = 0; i < 6; i++) results.push(await call('GET', '/api/v1/programs'));
      const refused = results.find((r) => r.statusCode === 429);
      expect(refused).toBeDefined();
      expectError(refused!, 'rate_limited');
    } finally {
      await limited.close();
    }
  });

  it('unknown JSON keys → 422 naming the key', async () => {
    const res = expectError(await apiA('POST', '/api/v1/programs', { name: 'X', currency: 'USD', destinationUrl: 'https://x.example.com/', colour: 'red' }), 'unprocessable');
    expect(res.details?.some((d) => d.path.includes('colour') || d.message.includes('colour'))).toBe(true);
    expectError(await apiA('POST', '/api/v1/track/sale', { customer: { externalId: 'x', nickname: 'y' }, amount: 1, currency: 'USD', invoiceId: 'i' }), 'unprocessable');
  });

  it('lists are {data, nextCursor}; limit ≤ 100; cursor pages without overlap', async () => {
    for (let i = 0; i < 3; i++) expect((await apiA('POST', `/api/v1/programs/${programA}/partners`, { email: `page${i}@example.com`, name: `Page ${i}`, status: 'approved' })).statusCode).toBe(201);
    const first = await apiA('GET', '/api/v1/enrollments?limit=2');
    expect(first.statusCode).toBe(200);
    expect(Object.keys(first.json()).sort()).toEqual(['data', 'nextCursor']);
    expect(first.json().data).toHaveLength(2);
    expect(first.json().nextCursor).toEqual(expect.any(String));
    const second = await apiA('GET', `/api/v1/enrollments?limit=2&cursor=${encodeURIComponent(first.json().nextCursor)}`);
    expect(second.statusCode).toBe(200);
    const ids = [...first.json().data, ...second.json().data].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(4);
    expect(second.json().nextCursor).toBeNull();
    expect((await apiA('GET', '/api/v1/enrollments?limit=100')).statusCode).toBe(200);
    expectError(await apiA('GET', '/api/v1/enrollments?limit=101'), 'unprocessable');
    for (const url of ['/api/v1/programs', '/api/v1/links', '/api/v1/commissions', '/api/v1/payouts', '/api/v1/partnerships', '/api/v1/webhooks', '/api/v1/customers', '/api/v1/applications']) {
      const res = await apiA('GET', `${url}?limit=100`);
      expect(res.statusCode, url).toBe(200);
      expect(res.json(), url).toEqual({ data: expect.any(Array), nextCursor: null });
      expectError(await apiA('GET', `${url}?limit=101`), 'unprocessable');
    }
  });

  it('POST /api/v1/payouts pays exactly the partners whose payable balance ≥ minAmount', async () => {
    const program = (await apiA('POST', '/api/v1/programs', { name: 'Threshold', currency: 'EUR', destinationUrl: 'https://threshold.example.com/', rules: { sale: { type: 'flat', amount: 1000 } }, status: 'active' })).json();
    const rich = (await apiA('POST', `/api/v1/programs/${program.id}/partners`, { email: 'rich@example.com', name: 'Rich', status: 'approved' })).json();
    const poor = (await apiA('POST', `/api/v1/programs/${program.id}/partners`, { email: 'poor@example.com', name: 'Poor', status: 'approved' })).json();
    let n = 0;
    const saleBy = (p: { enrollment: { couponCode: string } }) => apiA('POST', '/api/v1/track/sale', { customer: { externalId: `thr-${++n}` }, amount: 5000, currency: 'EUR', invoiceId: `thr-inv-${n}`, couponCode: p.enrollment.couponCode });
    for (const p of [rich, rich, poor]) expect((await saleBy(p)).json()).toMatchObject({ attributed: true, commission: { amount: 1000 } });
    expect((await apiA('POST', '/api/v1/jobs/mature', { asOf: ctx.clock.now.toISOString() })).json()).toMatchObject({ payable: 3 });
    const res = await apiA('POST', '/api/v1/payouts', { programId: program.id, minAmount: 1500 });
    expect(res.statusCode).toBe(201);
    expect(res.json().payouts).toEqual([expect.objectContaining({ partnerId: rich.partner.id, amount: 2000, currency: 'EUR', status: 'pending' })]);
    expect((await apiA('GET', `/api/v1/partners/${poor.partner.id}/balance?programId=${program.id}`)).json()).toEqual({ currency: 'EUR', pending: 0, payable: 1000, paid: 0 });
  });

  it('another workspace’s resource is not_found (404), never 403', async () => {
    expectError(await apiB('GET', `/api/v1/programs/${programA}`), 'not_found');
    expectError(await apiB('PATCH', `/api/v1/programs/${programA}`, { name: 'Mine now' }), 'not_found');
    expectError(await apiB('POST', `/api/v1/programs/${programA}/partners`, { email: 'x@example.com', name: 'X' }), 'not_found');
  });

  it('ids are prefixed and timestamps are ISO-8601 UTC', async () => {
    const p = (await apiA('GET', `/api/v1/programs/${programA}`)).json();
    expect(p.id).toMatch(/^prg_[0-9A-Za-z]+$/);
    expect(p.createdAt).toMatch(ISO_UTC);
    const enrollments = (await apiA('GET', '/api/v1/enrollments')).json().data;
    for (const e of enrollments) {
      expect(e.id).toMatch(/^enr_/);
      expectIsoTimestamps(e);
    }
    expect(a.workspaceId).toMatch(/^ws_/);
  });
});

/*
 * Registry-driven conventions: every endpoint registered today or tomorrow is held to them.
 */
const registry = Object.values(endpoints as Record<string, Endpoint>);
const isPage = (e: Endpoint) => Boolean((e.response as unknown as { shape?: Record<string, unknown> } | undefined)?.shape?.nextCursor);
const jsonLists = registry.filter((e) => e.method === 'GET' && e.auth.kind === 'scope' && !e.path.includes(':') && !e.produces);
/** Queries some lists cannot be called without. */
const dayRange = `from=${NOW.toISOString().slice(0, 10)}&to=${NOW.toISOString().slice(0, 10)}`;
const requiredQuery: Record<string, string> = { analyticsSummary: dayRange, analyticsTopPartners: dayRange, analyticsSegments: dayRange };
const withQuery = (e: Endpoint, extra = '') => {
  const q = [requiredQuery[e.operationId], extra].filter(Boolean).join('&');
  return q ? `${e.path}?${q}` : e.path;
};
const ID_VALUE = /^[a-z]{2,4}_[0-9a-z]+$/;
/** References the brand supplies (its own customer, invoice, product, order ids) keep the brand's shape. */
const BRAND_REFERENCES = new Set(['externalId', 'invoiceId', 'productId', 'orderId']);

/** Every `id`/`…Id` string is prefixed; returns the offenders as `path = value`. */
function unprefixedIds(value: unknown, path = '$', out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v, i) => unprefixedIds(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if ((k === 'id' || /[a-z]Id$/.test(k)) && !BRAND_REFERENCES.has(k) && typeof v === 'string' && !ID_VALUE.test(v)) out.push(`${path}.${k} = ${v}`);
      unprefixedIds(v, `${path}.${k}`, out);
    }
  }
  return out;
}

describe('registry-wide conventions', () => {
  let session: { cookie: string; csrf: string };
  beforeAll(async () => {
    // A fresh session: the clock has moved past the signup session's lifetime by now.
    const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: brand.email, password: 'correct horse battery' } });
    expect(login.statusCode).toBe(200);
    session = { cookie: cookieHeader(login), csrf: login.json().csrfToken };
  });

  // Pages under a resource (a program's partners, a webhook's deliveries) are exercised in the path above.
  it.each(jsonLists.filter(isPage).map((e) => [e.operationId, e] as const))('%s: limit ≤ 100 (101 → 422), {data, nextCursor}', async (_name, e) => {
    const api = asKey(ctx.app, brand.apiKey);
    const ok = await api('GET', withQuery(e, 'limit=100'));
    expect(ok.statusCode, ok.body.slice(0, 200)).toBe(200);
    expect(Object.keys(ok.json())).toEqual(expect.arrayContaining(['data', 'nextCursor']));
    expect(Array.isArray(ok.json().data)).toBe(true);
    const over = await api('GET', withQuery(e, 'limit=101'));
    const err = expectError(over, 'unprocessable');
    expect(err.details?.map((d) => d.path)).toContain('limit');
  });

  it.each(registry.filter((e) => e.body && e.auth.kind !== 'none' && (e.body as unknown as { shape?: unknown }).shape).map((e) => [e.operationId, e] as const))('%s: an unknown JSON key → 422 naming it', async (_name, e) => {
    const url = e.path.replace(/:([A-Za-z]+)/g, 'x_unknown');
    // User (portal, workspace switching) endpoints take the signed-in session; the rest the API key.
    const headers: Record<string, string> = e.auth.kind === 'user' ? { cookie: session.cookie, 'x-csrf-token': session.csrf } : { authorization: `Bearer ${brand.apiKey}` };
    const res = await ctx.app.inject({ method: e.method, url, headers, payload: { zzUnknownKey: 1 } });
    const err = expectError(res, 'unprocessable');
    expect(err.details?.some((d) => d.path === 'zzUnknownKey' || d.message.includes('zzUnknownKey')), JSON.stringify(err.details)).toBe(true);
  });

  it.each(jsonLists.filter(isPage).map((e) => [e.operationId, e] as const))('%s: walking ?limit=2&cursor= visits every item once, in the order of one full page', async (_name, e) => {
    const api = asKey(ctx.app, brand.apiKey);
    const all = (await api('GET', withQuery(e, 'limit=100'))).json().data as { id?: string }[];
    const key = (item: { id?: string }) => item.id ?? JSON.stringify(item);
    const walked: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 60; pages++) {
      const res = await api('GET', withQuery(e, `limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
      expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
      const page = res.json();
      expect(page.data.length).toBeLessThanOrEqual(2);
      walked.push(...page.data.map(key));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(cursor).toBeNull();
    expect(walked).toEqual(all.map(key));
  });

  it.each(jsonLists.map((e) => [e.operationId, e] as const))('%s: timestamps ISO-8601 UTC and ids prefixed', async (_name, e) => {
    const res = await asKey(ctx.app, brand.apiKey)('GET', withQuery(e));
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    const body = res.json();
    expectIsoTimestamps(body);
    expect(unprefixedIds(body)).toEqual([]);
  });
});
