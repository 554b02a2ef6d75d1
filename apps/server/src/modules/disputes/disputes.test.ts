import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDisputeDeadlines } from './disputes.js';
import { asKey, createTestContext, signupActor, uniqueEmail, type Actor, type TestContext } from '../../test/harness.js';
import { DISPUTE_DEADLINES_QUEUE } from './jobs.js';

// Near the real time: the housekeeping job deletes sessions by the database's clock, not the injected one.
const START = new Date(Math.floor(Date.now() / 1000) * 1000);
const DAY = 24 * 3600 * 1000;

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let programId: string;
let ada: { actor: Actor; partnerId: string };
let bob: { actor: Actor; partnerId: string };
let otherBrand: Actor;

/** Requests as a signed-in user (the partner portal's session), with the CSRF header on writes. */
function asUser(actor: Actor) {
  return (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    ctx.app.inject({ method, url, headers: { cookie: actor.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': actor.csrf }) }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

/** A partner of the program whose person signs in with its own user. */
async function partnerWithLogin(name: string) {
  const actor = await signupActor(ctx.app, { workspaceName: `${name}'s own space` });
  const res = await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(name), name });
  expect(res.statusCode).toBe(201);
  const partnerId = res.json().partner.id as string;
  await ctx.pool.query('update partners set user_id = $1 where workspace_id = $2 and id = $3', [actor.userId, brand.workspaceId, partnerId]);
  return { actor, partnerId };
}

const missingCredit = (overrides: Record<string, unknown> = {}) => ({
  kind: 'missing_credit',
  programId,
  orderId: 'INV-1001',
  customerEmail: 'Buyer@Example.com',
  saleDate: START.toISOString().slice(0, 10),
  message: 'My reader bought through my post but the sale is not credited.',
  evidenceUrls: ['https://ada.example.org/screenshot.png'],
  ...overrides,
});

async function drainDeadlines() {
  await ctx.services.queue.enqueue(DISPUTE_DEADLINES_QUEUE, {});
  await ctx.services.queue.drain();
}

beforeAll(async () => {
  ctx = await createTestContext({ now: START });
  brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
  api = asKey(ctx.app, brand.apiKey);
  const program = await api('POST', '/api/v1/programs', { name: 'Acme Partners', currency: 'USD', destinationUrl: 'https://acme.example.com/', status: 'active' });
  expect(program.statusCode).toBe(201);
  programId = program.json().id;
  ada = await partnerWithLogin('Ada');
  bob = await partnerWithLogin('Bob');
  otherBrand = await signupActor(ctx.app, { workspaceName: 'Other Brand' });
});
afterAll(async () => ctx?.close());

describe('filing a dispute', () => {
  it('files a missing-credit claim with a deadline 7 days out and tells the brand', async () => {
    const res = await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit());
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      id: expect.stringMatching(/^dsp_/),
      programId,
      partnerId: ada.partnerId,
      kind: 'missing_credit',
      missingCredit: { orderId: 'INV-1001', customerEmail: 'buyer@example.com', saleDate: START.toISOString().slice(0, 10) },
      evidenceUrls: ['https://ada.example.org/screenshot.png'],
      status: 'open',
      dueAt: new Date(START.getTime() + 7 * DAY).toISOString(),
      onDeadline: 'escalate',
      escalated: false,
      decision: null,
      comments: [],
    });
    const events = await ctx.pool.query(`select data from outbox_events where workspace_id = $1 and type = 'dispute.created'`, [brand.workspaceId]);
    expect(events.rows.map((e) => e.data.id)).toContain(body.id);
    const listed = (await api('GET', `/api/v1/disputes?programId=${programId}&status=open`)).json();
    expect(listed.data.map((d: { id: string }) => d.id)).toContain(body.id);
  });

  it('names each bad field with 422', async () => {
    const res = await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: '', saleDate: '27/02/2026', evidenceUrls: ['javascript:alert(1)'], extra: true }));
    expect(res.statusCode).toBe(422);
    const paths = res.json().error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['evidenceUrls.0', 'extra', 'orderId', 'saleDate']);
    expect((await asUser(ada.actor)('POST', '/api/v1/portal/disputes', { kind: 'vibes', message: 'x' })).statusCode).toBe(422);
  });

  it("refuses a program the partner is not in (404) and a user who is nobody's partner (403)", async () => {
    const foreign = await asKey(ctx.app, otherBrand.apiKey)('POST', '/api/v1/programs', { name: 'Other', currency: 'EUR', destinationUrl: 'https://other.example.com/' });
    const res = await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ programId: foreign.json().id }));
    expect(res.statusCode).toBe(404);
    expect(res.json().error.details).toEqual([{ path: 'programId', message: 'you are not a partner of this program' }]);
    const stranger = await signupActor(ctx.app);
    expect((await asUser(stranger)('POST', '/api/v1/portal/disputes', missingCredit())).statusCode).toBe(403);
  });

  it('needs a signed-in user, not an API key', async () => {
    expect((await api('POST', '/api/v1/portal/disputes', missingCredit())).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/portal/disputes' })).statusCode).toBe(401);
  });
});

describe('the conversation and the lifecycle', () => {
  it('takes comments from both sides, in order, and shows them to both', async () => {
    const id = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: 'INV-2002' }))).json().id;
    const fromBrand = await api('POST', `/api/v1/disputes/${id}/comments`, { body: 'Which day exactly?' });
    expect(fromBrand.statusCode).toBe(201);
    expect(fromBrand.json()).toMatchObject({ author: 'brand', body: 'Which day exactly?' });
    ctx.clock.advance(1000);
    expect((await asUser(ada.actor)('POST', `/api/v1/portal/disputes/${id}/comments`, { body: 'February 27th.' })).statusCode).toBe(201);
    const seenByPartner = (await asUser(ada.actor)('GET', `/api/v1/portal/disputes/${id}`)).json();
    const seenByBrand = (await api('GET', `/api/v1/disputes/${id}`)).json();
    expect(seenByPartner.comments.map((c: { author: string }) => c.author)).toEqual(['brand', 'partner']);
    expect(seenByBrand.comments).toEqual(seenByPartner.comments);
    expect((await api('POST', `/api/v1/disputes/${id}/comments`, { body: '  ' })).statusCode).toBe(422);
  });

  it('goes open → under_review → rejected with a reason, then takes no more comments or decisions', async () => {
    const id = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: 'INV-3003' }))).json().id;
    const review = await api('POST', `/api/v1/disputes/${id}/review`);
    expect(review.statusCode).toBe(200);
    expect(review.json().status).toBe('under_review');
    expect((await api('POST', `/api/v1/disputes/${id}/review`)).statusCode).toBe(409);
    const rejected = await api('POST', `/api/v1/disputes/${id}/decide`, { decision: 'rejected', reason: 'No such order in our books' });
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json()).toMatchObject({ status: 'rejected', decision: { reason: 'No such order in our books', resolution: null, decidedBy: expect.stringMatching(/^key_/) } });
    expect((await api('POST', `/api/v1/disputes/${id}/decide`, { decision: 'rejected', reason: 'again' })).statusCode).toBe(409);
    expect((await asUser(ada.actor)('POST', `/api/v1/portal/disputes/${id}/comments`, { body: 'But…' })).statusCode).toBe(409);
    expect((await asUser(ada.actor)('POST', `/api/v1/portal/disputes/${id}/withdraw`)).statusCode).toBe(409);
    const audit = await ctx.pool.query(`select action, actor_kind from audit_log where workspace_id = $1 and target_id = $2 order by id`, [brand.workspaceId, id]);
    expect(audit.rows.map((a) => a.action)).toEqual(['dispute.filed', 'dispute.under_review', 'dispute.rejected']);
    const decided = await ctx.pool.query(`select 1 from outbox_events where workspace_id = $1 and type = 'dispute.decided' and data->>'id' = $2`, [brand.workspaceId, id]);
    expect(decided.rowCount).toBe(1);
  });

  it('refuses a resolution on a rejection and an acceptance without one (422 naming the field)', async () => {
    const id = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: 'INV-4004' }))).json().id;
    const withResolution = await api('POST', `/api/v1/disputes/${id}/decide`, { decision: 'rejected', reason: 'no', resolution: { kind: 'release_hold' } });
    expect(withResolution.statusCode).toBe(422);
    expect(withResolution.json().error.details).toEqual([{ path: 'resolution', message: 'only goes with an accepted decision' }]);
    const without = await api('POST', `/api/v1/disputes/${id}/decide`, { decision: 'accepted', reason: 'yes' });
    expect(without.statusCode).toBe(422);
    expect(without.json().error.details).toEqual([{ path: 'resolution', message: 'is required when accepting' }]);
    expect((await api('POST', `/api/v1/disputes/${id}/decide`, { decision: 'accepted', reason: 'yes', resolution: { kind: 'adjustment', amount: -5 } })).statusCode).toBe(422);
    expect((await api('GET', `/api/v1/disputes/${id}`)).json().status).toBe('open');
  });

  it('lets the partner withdraw an undecided dispute', async () => {
    const id = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: 'INV-5005' }))).json().id;
    const res = await asUser(ada.actor)('POST', `/api/v1/portal/disputes/${id}/withdraw`);
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('withdrawn');
    expect((await api('POST', `/api/v1/disputes/${id}/review`)).statusCode).toBe(409);
  });
});

describe('isolation', () => {
  let adasDispute: string;
  beforeAll(async () => {
    adasDispute = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: 'INV-ISO' }))).json().id;
  });

  it("never shows one partner another partner's dispute", async () => {
    const bobApi = asUser(bob.actor);
    expect((await bobApi('GET', `/api/v1/portal/disputes/${adasDispute}`)).statusCode).toBe(404);
    expect((await bobApi('POST', `/api/v1/portal/disputes/${adasDispute}/comments`, { body: 'peek' })).statusCode).toBe(404);
    expect((await bobApi('POST', `/api/v1/portal/disputes/${adasDispute}/withdraw`)).statusCode).toBe(404);
    const bobsList = (await bobApi('GET', '/api/v1/portal/disputes')).json();
    expect(bobsList.data).toEqual([]);
    const adasList = (await asUser(ada.actor)('GET', '/api/v1/portal/disputes?limit=100')).json();
    expect(adasList.data.every((d: { partnerId: string }) => d.partnerId === ada.partnerId)).toBe(true);
    expect(adasList.data.map((d: { id: string }) => d.id)).toContain(adasDispute);
  });

  it("answers another workspace with 404 and an empty list", async () => {
    const other = asKey(ctx.app, otherBrand.apiKey);
    expect((await other('GET', `/api/v1/disputes/${adasDispute}`)).statusCode).toBe(404);
    expect((await other('POST', `/api/v1/disputes/${adasDispute}/decide`, { decision: 'rejected', reason: 'x' })).statusCode).toBe(404);
    expect((await other('POST', `/api/v1/disputes/${adasDispute}/comments`, { body: 'x' })).statusCode).toBe(404);
    expect((await other('GET', '/api/v1/disputes')).json().data).toEqual([]);
    expect((await other('GET', `/api/v1/programs/${programId}/dispute-policy`)).statusCode).toBe(404);
  });

  it('pages the brand list newest first', async () => {
    const first = (await api('GET', '/api/v1/disputes?limit=2')).json();
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await api('GET', `/api/v1/disputes?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.data[0].id < first.data[1].id).toBe(true);
  });
});

describe('response deadlines', () => {
  it('escalates an unanswered dispute once the deadline passes, once', async () => {
    const filed = (await asUser(bob.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: 'INV-LATE' }))).json();
    ctx.clock.set(new Date(new Date(filed.dueAt).getTime() - 60_000));
    await drainDeadlines();
    expect((await api('GET', `/api/v1/disputes/${filed.id}`)).json().escalated).toBe(false);

    ctx.clock.advance(2 * 60_000);
    await drainDeadlines();
    const escalated = (await api('GET', `/api/v1/disputes/${filed.id}`)).json();
    expect(escalated).toMatchObject({ status: 'open', escalated: true, escalatedAt: ctx.clock.now.toISOString() });
    expect((await api('GET', '/api/v1/disputes?escalated=true')).json().data.map((d: { id: string }) => d.id)).toContain(filed.id);

    ctx.clock.advance(DAY);
    await drainDeadlines();
    const notices = await ctx.pool.query(`select 1 from outbox_events where workspace_id = $1 and type = 'dispute.updated' and data->>'id' = $2 and data->>'change' = 'escalated'`, [brand.workspaceId, filed.id]);
    expect(notices.rowCount).toBe(1);
    // Escalation flags, it does not decide: the brand can still answer.
    expect((await api('POST', `/api/v1/disputes/${filed.id}/decide`, { decision: 'rejected', reason: 'Late, but no' })).statusCode).toBe(200);
  });

  it("auto-rejects past the deadline when the program's policy says so", async () => {
    const policy = await api('PUT', `/api/v1/programs/${programId}/dispute-policy`, { responseDays: 3, onDeadline: 'reject' });
    expect(policy.statusCode).toBe(200);
    expect(policy.json()).toEqual({ programId, responseDays: 3, onDeadline: 'reject' });
    const filing = await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: 'INV-AUTO' }));
    expect(filing.statusCode, filing.body).toBe(201);
    const filed = filing.json();
    expect(new Date(filed.dueAt).getTime() - ctx.clock.now.getTime()).toBe(3 * DAY);
    ctx.clock.advance(3 * DAY);
    await drainDeadlines();
    const decided = (await api('GET', `/api/v1/disputes/${filed.id}`)).json();
    expect(decided).toMatchObject({ status: 'rejected', decision: { decidedBy: 'system', reason: expect.stringContaining('deadline') } });
    await api('PUT', `/api/v1/programs/${programId}/dispute-policy`, { responseDays: 7, onDeadline: 'escalate' });
  });
});

describe('deadline sweep backlog', () => {
  it("escalates once what an 'accept' policy cannot settle, and never takes it up again", async () => {
    await api('PUT', `/api/v1/programs/${programId}/dispute-policy`, { responseDays: 1, onDeadline: 'accept' });
    // A missing-credit claim without an invoice to re-attribute has no automatic effect.
    const filed = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: 'INV-NOWHERE' }))).json();
    ctx.clock.advance(2 * DAY);
    const first = await runDisputeDeadlines(ctx.services);
    expect(first.escalated).toBeGreaterThanOrEqual(1);
    expect((await api('GET', `/api/v1/disputes/${filed.id}`)).json()).toMatchObject({ status: 'open', escalated: true });
    // The next runs find nothing to do for it: escalated disputes wait for the brand.
    expect(await runDisputeDeadlines(ctx.services)).toEqual({ escalated: 0, decided: 0 });
    // Even a backlog of 500 such disputes, older than anything else, does not starve a newer one.
    await ctx.pool.query(
      `insert into disputes select (json_populate_record(d, json_build_object('id', d.id || '_' || n, 'due_at', d.due_at - interval '1 day')::json)).* from disputes d, generate_series(1, 500) n where d.workspace_id = $1 and d.id = $2`,
      [brand.workspaceId, filed.id],
    );
    const fresh = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', missingCredit({ orderId: 'INV-NEWER' }))).json();
    ctx.clock.advance(2 * DAY);
    await runDisputeDeadlines(ctx.services);
    expect((await api('GET', `/api/v1/disputes/${fresh.id}`)).json().escalated).toBe(true);
    await api('PUT', `/api/v1/programs/${programId}/dispute-policy`, { responseDays: 7, onDeadline: 'escalate' });
  });
});

describe('dispute policy', () => {
  it('defaults to 7 days and escalation, validates changes and needs the admin scope', async () => {
    const fresh = await api('POST', '/api/v1/programs', { name: 'Fresh', currency: 'USD', destinationUrl: 'https://acme.example.com/' });
    const id = fresh.json().id;
    expect((await api('GET', `/api/v1/programs/${id}/dispute-policy`)).json()).toEqual({ programId: id, responseDays: 7, onDeadline: 'escalate' });
    const bad = await api('PUT', `/api/v1/programs/${id}/dispute-policy`, { responseDays: 0, onDeadline: 'shrug' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(['onDeadline', 'responseDays']);
    const key = (await api('POST', '/api/v1/api-keys', { name: 'writer', scopes: ['read', 'write'] })).json().key;
    expect((await asKey(ctx.app, key)('PUT', `/api/v1/programs/${id}/dispute-policy`, { responseDays: 5 })).statusCode).toBe(403);
    expect((await api('GET', '/api/v1/programs/prg_00000000000000000000000000/dispute-policy')).statusCode).toBe(404);
  });
});
