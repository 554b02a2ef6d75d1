import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorStatus } from '@tandem/contracts';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from './harness.js';

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

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
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
  let brand: Actor;
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
    expect(res.json()).toEqual({ status: 'ok', db: expect.stringMatching(/^(embedded|external)$/) });
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
    brand = { apiKey: body.apiKey, cookie: '', csrf: body.csrfToken, userId: body.user.id, workspaceId: body.workspace.id, workspaceSlug: body.workspace.slug, email };
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

  it('GET /api/v1/me with no credentials → 401', async () => {
    expectError(await ctx.app.inject({ method: 'GET', url: '/api/v1/me' }), 'unauthorized');
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
  });

  it('POST /api/v1/public/programs/:slug/applications (no auth) → 201 {id, status}', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: `/api/v1/public/programs/${programSlug}/applications`, payload: { name: 'Applicant', email: 'applicant@example.com', website: 'https://applicant.example.com', message: 'Hi' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: expect.any(String), status: expect.any(String) });
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
    expect((await ctx.app.inject({ method: 'GET', url: '/r/no-such-key-here' })).statusCode).toBe(404);
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

  it('DELETE /api/v1/customers/:externalId → 204; personal data gone, money kept, the ledger still verifies', async () => {
    const res = await api('DELETE', '/api/v1/customers/cust-1');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const after = await api('GET', '/api/v1/customers/cust-1/export');
    expect(after.body).not.toContain('Casey');
    expect((await api('GET', `/api/v1/partners/${partnerId}/balance?programId=${programId}`)).json()).toEqual({ currency: 'USD', pending: 0, payable: 0, paid: 2500 });
    expect((await api('GET', '/api/v1/ledger/verify')).json()).toMatchObject({ ok: true });
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
