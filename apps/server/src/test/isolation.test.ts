import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { endpoints, type Endpoint } from '@tandem/contracts';
import { asKey, createTestContext, signupActor, type TestContext } from './harness.js';
import { seedTenant, type Tenant } from './fixtures.js';

/*
 * The tenant sweep. Two workspaces each hold one of every kind of resource; then every endpoint of
 * the registry is called as workspace B:
 *  - with a path parameter: with workspace A's ids → exactly 404 (never 200, 403 or 500);
 *  - without one (lists, CSV exports): B's answer never contains any of A's ids, also when B passes
 *    A's ids as query filters.
 * The sweep is driven by `endpoints`, so a new endpoint is covered the day it is registered; one whose
 * path names a resource this file does not know fails with a message saying what to add.
 *
 * Skipped by auth kind, on purpose:
 *  - `none` (public: health, signup/login/logout, invitations/accept, public program pages and
 *    applications by slug, portal signup, the Stripe webhook): no workspace is acting, so there is no
 *    "other workspace" to be isolated from; slugs are public by design.
 *  - `user` outside /api/v1/portal (workspace creation and switching): they act on the signed-in
 *    user's own memberships, not on a workspace's resources.
 * The partner portal (`user` endpoints under /api/v1/portal) gets its own sweep below: B's partner,
 * signed in, with A's enrollment and dispute ids → 404, and B's partner's lists hold nothing of A.
 */

const NOW = new Date('2026-06-15T12:00:00.000Z');

let ctx: TestContext;
let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  // A third brand for each tenant to hold a partnership with: a partnership between A and B would be
  // legitimately visible to both.
  const thirdParty = await signupActor(ctx.app, { workspaceName: 'Third Party' });
  a = await seedTenant(ctx, 'alpha', thirdParty);
  b = await seedTenant(ctx, 'beta', thirdParty);
}, 60_000);
afterAll(async () => ctx?.close());

/** Which of a tenant's ids a path parameter means, judged by the path segment before it. */
function idForParam(tenant: Tenant, path: string, param: string): string | undefined {
  const segments = path.split('/');
  const at = segments.findIndex((s) => s === `:${param}` || s.startsWith(`:${param}.`));
  const collection = segments[at - 1];
  if (param === 'externalId') return tenant.ids.customerExternalId;
  // The review queue holds only held commissions.
  if (param === 'commissionId') return tenant.ids.heldCommissionId;
  if (param === 'batchId') return tenant.ids.batchId;
  if (param === 'deliveryId') return tenant.ids.deliveryId;
  const byCollection: Record<string, string> = {
    'api-keys': tenant.ids.apiKeyId,
    invitations: tenant.ids.invitationId,
    members: tenant.ids.memberUserId,
    disputes: tenant.ids.disputeId,
    programs: tenant.ids.programId,
    partners: tenant.ids.partnerId,
    enrollments: tenant.ids.enrollmentId,
    applications: tenant.ids.applicationId,
    webhooks: tenant.ids.webhookId,
    partnerships: tenant.ids.partnershipId,
    'share-links': tenant.ids.shareLinkId,
    links: tenant.ids.linkId,
    payouts: tenant.ids.payoutId,
    reviews: tenant.ids.heldCommissionId,
    imports: tenant.ids.conversionImportId,
  };
  return collection ? byCollection[collection] : undefined;
}

/**
 * A body (and query) that passes validation, so that the only reason left to refuse is that the
 * resource is not B's. Ids inside are A's too: a cross-tenant reference must not help.
 */
function validInput(tenant: Tenant, operationId: string): { body?: unknown; query?: Record<string, string>; contentType?: string } {
  const t = tenant.ids;
  const inputs: Record<string, { body?: unknown; query?: Record<string, string>; contentType?: string }> = {
    commentDispute: { body: { body: 'A comment from the wrong workspace' } },
    commentPortalDispute: { body: { body: 'A comment from the wrong partner' } },
    reviewDispute: {},
    decideDispute: { body: { decision: 'rejected', reason: 'Wrong workspace' } },
    updateDisputePolicy: { body: { responseDays: 5 } },
    updateFraudSettings: { body: { holdThreshold: 50 } },
    releaseReview: { body: { reason: 'Wrong workspace' } },
    rejectReview: { body: { reason: 'Wrong workspace' } },
    addPayoutIdentity: { body: { details: 'IBAN DE00 0000 0000 0000' } },
    updateWebhook: { body: { enabled: false } },
    updateProgram: { body: { name: 'Taken over' } },
    addPartner: { body: { email: 'intruder@example.com', name: 'Intruder' } },
    changeEnrollmentStatus: { body: { status: 'banned', reason: 'Wrong workspace' } },
    updateEnrollment: { body: { tags: ['intruder'] } },
    voteOnApplication: { body: { decision: 'approve' } },
    acceptPartnership: { body: { programId: t.programId } },
    addPartnershipMember: { body: { inviteEmail: 'intruder@example.com' } },
    updateLink: { body: { archived: true } },
    previewCommission: { body: { partnerId: t.partnerId, event: { type: 'sale', amount: 10_000, currency: 'USD' } } },
    markPayoutPaid: { body: { reference: 'WRONG-WS' } },
    markPayoutFailed: { body: { reason: 'Wrong workspace' } },
    partnerBalance: { query: { programId: t.programId } },
    partnerStatementCsv: { query: { programId: t.programId } },
    partnerStatementHtml: { query: { programId: t.programId } },
    importPartners: { body: 'email,name\nintruder@example.com,Intruder\n', contentType: 'text/csv' },
  };
  return inputs[operationId] ?? {};
}

function fillPath(tenant: Tenant, path: string): { url: string; missing: string[] } {
  const missing: string[] = [];
  const url = path.replace(/:([A-Za-z]+)/g, (_, param: string) => {
    const id = idForParam(tenant, path, param);
    if (!id) missing.push(param);
    return encodeURIComponent(id ?? `unknown-${param}`);
  });
  return { url, missing };
}

async function call(tenant: Tenant, endpoint: Endpoint, url: string, input: { body?: unknown; query?: Record<string, string>; contentType?: string }): Promise<LightMyRequestResponse> {
  const query = input.query ? `?${new URLSearchParams(input.query).toString()}` : '';
  // Portal endpoints act as the tenant's partner's person; everything else as the workspace's key.
  const headers: Record<string, string> = endpoint.auth.kind === 'user' ? { cookie: tenant.portal.cookie, 'x-csrf-token': tenant.portal.csrf } : { authorization: `Bearer ${tenant.actor.apiKey}` };
  if (input.contentType) headers['content-type'] = input.contentType;
  return ctx.app.inject({
    method: endpoint.method,
    url: `${url}${query}`,
    headers,
    ...(input.body !== undefined ? { payload: input.body as string } : endpoint.method === 'GET' || endpoint.method === 'DELETE' ? {} : { payload: {} }),
  });
}

const workspaceEndpoints = Object.values(endpoints as Record<string, Endpoint>).filter((e) => e.auth.kind === 'scope');
const portalEndpoints = Object.values(endpoints as Record<string, Endpoint>).filter((e) => e.auth.kind === 'user' && e.path.startsWith('/api/v1/portal/'));
const withPathParams = [...workspaceEndpoints, ...portalEndpoints].filter((e) => e.path.includes(':'));
// Server-sent events never end; the stream is scoped by the same auth as everything else.
const withoutPathParams = [...workspaceEndpoints, ...portalEndpoints].filter((e) => !e.path.includes(':') && e.method === 'GET' && e.produces !== 'text/event-stream');

/** Every id and tenant-unique value of A, named for the failure message; none may reach B. */
function leaksIn(body: string, tenant: Tenant): string[] {
  return Object.entries(tenant.ids)
    .filter(([, value]) => body.includes(value))
    .map(([kind, value]) => `${kind} ${value}`);
}

describe('the registry sweep', () => {
  it('covers a non-trivial registry (the sweep is not silently empty)', () => {
    expect(withPathParams.length).toBeGreaterThan(50);
    expect(withoutPathParams.length).toBeGreaterThan(15);
  });

  it('every fixture id of both tenants exists and differs', () => {
    for (const [kind, id] of Object.entries(a.ids)) {
      expect(id, kind).toEqual(expect.any(String));
      expect(id, kind).not.toBe(b.ids[kind as keyof Tenant['ids']]);
    }
  });

  // The control: A reaches its own resources through the same URLs, so B's 404 below means
  // "not yours", not "a fixture id that points nowhere".
  describe.each(withPathParams.filter((e) => e.method === 'GET').map((e) => [`${e.method} ${e.path} (${e.operationId})`, e] as const))('%s as workspace A itself', (_name, endpoint) => {
    it('is 200', async () => {
      const { url } = fillPath(a, endpoint.path);
      const res = await call(a, endpoint, url, validInput(a, endpoint.operationId));
      expect(res.statusCode, `${url} → ${res.body.slice(0, 300)}`).toBe(200);
    });
  });

  it('A’s own lists show A’s resources (so B’s lists being clean means something)', async () => {
    const api = asKey(ctx.app, a.actor.apiKey);
    const expectations: [string, string][] = [
      ['/api/v1/programs', a.ids.programId],
      ['/api/v1/enrollments', a.ids.enrollmentId],
      ['/api/v1/links', a.ids.linkId],
      ['/api/v1/applications', a.ids.applicationId],
      ['/api/v1/customers', a.ids.customerId],
      ['/api/v1/sales', a.ids.saleId],
      ['/api/v1/commissions', a.ids.commissionId],
      ['/api/v1/payouts', a.ids.payoutId],
      ['/api/v1/partnerships', a.ids.partnershipId],
      ['/api/v1/webhooks', a.ids.webhookId],
      ['/api/v1/disputes', a.ids.disputeId],
      ['/api/v1/api-keys', a.ids.apiKeyId],
      ['/api/v1/invitations', a.ids.invitationId],
      ['/api/v1/partners.csv', a.ids.partnerId],
      ['/api/v1/commissions.csv', a.ids.commissionId],
      ['/api/v1/payouts.csv', a.ids.payoutId],
    ];
    for (const [url, id] of expectations) {
      const res = await api('GET', url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toContain(id);
    }
  });

  describe.each(withPathParams.map((e) => [`${e.method} ${e.path} (${e.operationId})`, e] as const))('%s as workspace B with A’s ids', (_name, endpoint) => {
    it('is 404 not_found', async () => {
      const { url, missing } = fillPath(a, endpoint.path);
      expect(missing, `no fixture id for :${missing.join(', :')} in ${endpoint.path}: add the resource to fixtures.ts and to idForParam`).toEqual([]);
      const res = await call(b, endpoint, url, validInput(a, endpoint.operationId));
      const detail = `${endpoint.method} ${url} → ${res.statusCode} ${res.body.slice(0, 300)}`;
      expect(res.statusCode, detail).toBe(404);
      expect(res.json(), detail).toMatchObject({ error: { code: 'not_found' } });
    });
  });

  describe.each(withoutPathParams.map((e) => [`${e.method} ${e.path} (${e.operationId})`, e] as const))('%s as workspace B', (_name, endpoint) => {
    it('never contains A’s ids', async () => {
      const res = await call(b, endpoint, endpoint.path, { query: requiredQuery(endpoint.operationId) });
      expect(res.statusCode, `${endpoint.path} → ${res.statusCode} ${res.body.slice(0, 300)}: add its required query to requiredQuery()`).toBe(200);
      expect(leaksIn(res.body, a), `${endpoint.path} leaks`).toEqual([]);
    });

    const filters = queryIdKeys(endpoint);
    if (filters.length > 0) {
      it(`filtered by A’s ${filters.join(', ')} is 404 or shows nothing of A`, async () => {
        const query = { ...requiredQuery(endpoint.operationId), ...Object.fromEntries(filters.map((k) => [k, filterValue(a, k)])) };
        const res = await call(b, endpoint, endpoint.path, { query });
        const detail = `${endpoint.path}?${new URLSearchParams(query)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
        expect([200, 404], detail).toContain(res.statusCode);
        expect(leaksIn(res.body, a), detail).toEqual([]);
      });
    }
  });
});

/** The query a list endpoint cannot be called without (beyond id filters). */
function requiredQuery(operationId: string): Record<string, string> | undefined {
  const required: Record<string, Record<string, string>> = {
    analyticsSummary: { from: NOW.toISOString().slice(0, 10), to: NOW.toISOString().slice(0, 10) },
    analyticsTopPartners: { from: NOW.toISOString().slice(0, 10), to: NOW.toISOString().slice(0, 10) },
    analyticsSegments: { from: NOW.toISOString().slice(0, 10), to: NOW.toISOString().slice(0, 10) },
  };
  return required[operationId];
}

/** Query filters that name a resource by id, and which of a tenant's ids each takes. */
const ID_FILTERS = { programId: 'programId', partnerId: 'partnerId', customerId: 'customerId', linkId: 'linkId', enrollmentId: 'enrollmentId', saleId: 'saleId', payoutId: 'payoutId', commissionId: 'commissionId', batchId: 'batchId' } as const satisfies Record<string, keyof Tenant['ids']>;

function queryIdKeys(endpoint: Endpoint): (keyof typeof ID_FILTERS)[] {
  const shape = (endpoint.query as unknown as { shape?: Record<string, unknown> } | undefined)?.shape;
  return Object.keys(shape ?? {}).filter((k): k is keyof typeof ID_FILTERS => k in ID_FILTERS);
}
const filterValue = (tenant: Tenant, key: keyof typeof ID_FILTERS) => tenant.ids[ID_FILTERS[key]];

describe('cross-tenant references inside bodies', () => {
  const as = (t: Tenant) => asKey(ctx.app, t.actor.apiKey);

  it('a link for A’s program and partner → 404', async () => {
    expect((await as(b)('POST', '/api/v1/links', { programId: a.ids.programId, partnerId: a.ids.partnerId })).statusCode).toBe(404);
  });

  it('a link in B’s program for A’s partner is refused without revealing A’s partner', async () => {
    const res = await as(b)('POST', '/api/v1/links', { programId: b.ids.programId, partnerId: a.ids.partnerId });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    // Same answer as for an id that exists nowhere: nothing tells B that A's partner exists.
    const unknown = await as(b)('POST', '/api/v1/links', { programId: b.ids.programId, partnerId: 'ptn_00000000000000000000000000' });
    expect(res.statusCode).toBe(unknown.statusCode);
    expect(res.json().error.message).toBe(unknown.json().error.message);
  });
  it('POST /api/v1/links {programId: B’s, partnerId: A’s} → 404 not_found naming partnerId', async () => {
    const res = await as(b)('POST', '/api/v1/links', { programId: b.ids.programId, partnerId: a.ids.partnerId });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'not_found', details: [{ path: 'partnerId' }] });
  });

  it('a payout run for A’s program → 404', async () => {
    expect((await as(b)('POST', '/api/v1/payouts', { programId: a.ids.programId })).statusCode).toBe(404);
  });

  it('a partnership offering A’s program → 404', async () => {
    expect((await as(b)('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: a.actor.workspaceSlug, programId: a.ids.programId })).statusCode).toBe(404);
  });

  it('A’s coupon code and click id attribute nothing in B', async () => {
    const lead = await as(b)('POST', '/api/v1/track/lead', { clickId: a.ids.clickId, couponCode: a.ids.couponCode, customer: { externalId: 'beta-cross-ref' } });
    expect(lead.statusCode).toBe(200);
    expect(lead.json()).toMatchObject({ attributed: false, partnerId: null });
    const sale = await as(b)('POST', '/api/v1/track/sale', { customer: { externalId: 'beta-cross-sale' }, amount: 1000, currency: 'USD', invoiceId: 'beta-cross-inv', couponCode: a.ids.couponCode });
    expect(sale.statusCode).toBe(200);
    expect(sale.json()).toMatchObject({ attributed: false });
    expect(leaksIn(lead.body + sale.body, a)).toEqual([]);
  });

  it('A’s invoice cannot be refunded by B → 404', async () => {
    expect((await as(b)('POST', '/api/v1/track/refund', { invoiceId: a.ids.invoiceId })).statusCode).toBe(404);
  });
});

describe('after the sweep, A is untouched', () => {
  it('A’s program, key, link, customer and money are as they were', async () => {
    const api = asKey(ctx.app, a.actor.apiKey);
    expect((await api('GET', `/api/v1/programs/${a.ids.programId}`)).json()).toMatchObject({ name: 'alpha program', status: 'active' });
    expect((await api('GET', `/api/v1/enrollments/${a.ids.enrollmentId}`)).json()).toMatchObject({ status: 'approved' });
    expect((await api('GET', `/api/v1/links/${a.ids.linkId}`)).json()).toMatchObject({ archived: false });
    expect((await api('GET', `/api/v1/customers/${a.ids.customerExternalId}/export`)).statusCode).toBe(200);
    expect((await api('GET', `/api/v1/webhooks/${a.ids.webhookId}`)).json()).toMatchObject({ enabled: true });
    const keys = (await api('GET', '/api/v1/api-keys')).json().data.map((k: { id: string }) => k.id);
    expect(keys).toContain(a.ids.apiKeyId);
    const payouts = (await api('GET', `/api/v1/payouts?programId=${a.ids.programId}`)).json().data;
    expect(payouts.find((p: { id: string }) => p.id === a.ids.payoutId)).toMatchObject({ status: 'pending' });
    expect((await api('GET', '/api/v1/ledger/verify')).json()).toMatchObject({ ok: true });
  });
});

// The control for the writes, run last because it changes B: the very same requests with B's own
// ids are not 404, so every 404 of the sweep was about whose resource it is, not about the request.
// Deletions go after everything else, so they do not remove what a later write needs.
describe('the same writes as workspace B with B’s own ids', () => {
  const writes = withPathParams.filter((e) => e.method !== 'GET').sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'));
  it.each(writes.map((e) => [`${e.method} ${e.path} (${e.operationId})`, e] as const))('%s is not 404', async (_name, endpoint) => {
    const { url } = fillPath(b, endpoint.path);
    const res = await call(b, endpoint, url, validInput(b, endpoint.operationId));
    expect(res.statusCode, `${url} → ${res.body.slice(0, 300)}`).not.toBe(404);
    expect(res.statusCode, `${url} → ${res.body.slice(0, 300)}`).toBeLessThan(500);
  });
});
