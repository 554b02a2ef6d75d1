import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickIdFromUuid, uuidv7 } from '@tandem/core';
import { asKey, createTestContext, signupActor, uniqueEmail, type Actor, type TestContext } from '../../test/harness.js';
import { DISPUTE_DEADLINES_QUEUE } from './jobs.js';
import { replayStoredProgram } from '../rewards/replay.js';

/*
 * Accepted disputes and their ledger effects, end to end over HTTP: a missing-credit claim that
 * re-attributes a sale, a released hold, an adjustment on a payout — and an automatic acceptance
 * at the deadline — with the journal verified after each.
 */

const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const MIN = 60_000;
const DAY = 24 * 3600 * 1000;

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let programId: string;
interface TestPartner { partnerId: string; linkId: string; email: string; actor: Actor }
let ada: TestPartner;
let bob: TestPartner;

function asUser(actor: Actor) {
  return (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    ctx.app.inject({ method, url, headers: { cookie: actor.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': actor.csrf }) }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

async function partnerWithLogin(name: string, inProgram = programId): Promise<TestPartner> {
  const actor = await signupActor(ctx.app, { workspaceName: `${name}'s own space` });
  const email = uniqueEmail(name);
  const res = await api('POST', `/api/v1/programs/${inProgram}/partners`, { email, name });
  const partnerId = res.json().partner.id as string;
  await ctx.pool.query('update partners set user_id = $1 where workspace_id = $2 and id = $3', [actor.userId, brand.workspaceId, partnerId]);
  return { partnerId, linkId: res.json().link.id, email: email.toLowerCase(), actor };
}

let visitor = 0;
async function saleVia(partner: TestPartner, invoiceId: string, customer: { externalId: string; email?: string }, amount = 10_000, inProgram = programId) {
  visitor += 1;
  const clickAt = new Date(ctx.clock.now.getTime() - 3 * 3600_000);
  const uuid = uuidv7(clickAt.getTime());
  await ctx.pool.query(
    `insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at, ip_hash, visitor_hash) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [brand.workspaceId, uuid, partner.linkId, inProgram, partner.partnerId, clickAt, `ip:${visitor}`, `dev:${visitor}`],
  );
  const res = await api('POST', '/api/v1/track/sale', { customer, amount, currency: 'USD', invoiceId, clickId: clickIdFromUuid(uuid), occurredAt: new Date(clickAt.getTime() + 90 * MIN).toISOString() });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { sale: { id: string }; commission?: { id: string; amount: number; status: string } };
}

async function commissionsOf(partner: TestPartner) {
  const { rows } = await ctx.pool.query<{ id: string; kind: string; amount: string; status: string; sale_id: string | null }>(
    'select id, kind, amount, status, sale_id from commissions where workspace_id = $1 and partner_id = $2 order by id',
    [brand.workspaceId, partner.partnerId],
  );
  return rows.map((r) => ({ ...r, amount: Number(r.amount) }));
}

async function expectLedgerOk() {
  const res = await api('GET', '/api/v1/ledger/verify');
  expect(res.statusCode).toBe(200);
  expect(res.json().ok).toBe(true);
}

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
  api = asKey(ctx.app, brand.apiKey);
  const program = await api('POST', '/api/v1/programs', { name: 'Acme Partners', currency: 'USD', destinationUrl: 'https://acme.example.com/', rules: { sale: { type: 'percentage', amount: 10 } } });
  programId = program.json().id;
  ada = await partnerWithLogin('Ada');
  bob = await partnerWithLogin('Bob');
});
afterAll(async () => ctx?.close());

describe('an accepted missing-credit claim', () => {
  it('re-attributes the sale to the claimant in the decision transaction, reversing the other credit', async () => {
    const sold = await saleVia(bob, 'INV-100', { externalId: 'cust-100' });
    expect(sold.commission).toMatchObject({ amount: 1000, status: 'pending' });

    const filed = await asUser(ada.actor)('POST', '/api/v1/portal/disputes', {
      kind: 'missing_credit', programId, orderId: 'INV-100', customerEmail: 'reader@example.com', saleDate: NOW.toISOString().slice(0, 10),
      message: 'This reader came from my review; the last click was a coupon site.', evidenceUrls: ['https://ada.example.org/review'],
    });
    expect(filed.statusCode).toBe(201);
    const id = filed.json().id;
    expect((await api('POST', `/api/v1/disputes/${id}/review`)).statusCode).toBe(200);
    expect((await api('POST', `/api/v1/disputes/${id}/comments`, { body: 'Found it: INV-100, checking the referrer logs.' })).statusCode).toBe(201);

    const decided = await api('POST', `/api/v1/disputes/${id}/decide`, { decision: 'accepted', reason: 'Referrer logs confirm the review', resolution: { kind: 'reattribute', saleId: sold.sale.id } });
    expect(decided.statusCode, decided.body).toBe(200);
    const resolution = decided.json().decision.resolution;
    expect(decided.json().status).toBe('accepted');
    expect(resolution).toMatchObject({ kind: 'reattribute', saleId: sold.sale.id, fromPartnerId: bob.partnerId, reversedCommissionIds: [sold.commission!.id], amount: 1000, commissionId: expect.stringMatching(/^com_/) });

    const { rows: sale } = await ctx.pool.query('select partner_id, program_id from sales where workspace_id = $1 and id = $2', [brand.workspaceId, sold.sale.id]);
    expect(sale[0]).toEqual({ partner_id: ada.partnerId, program_id: programId });
    expect(await commissionsOf(bob)).toEqual([{ id: sold.commission!.id, kind: 'sale', amount: 1000, status: 'reversed', sale_id: sold.sale.id }]);
    expect(await commissionsOf(ada)).toEqual([{ id: resolution.commissionId, kind: 'adjustment', amount: 1000, status: 'payable', sale_id: sold.sale.id }]);
    // The claimant sees its own credit, not whose sale it was nor who decided at the brand.
    const seenByAda = await asUser(ada.actor)('GET', `/api/v1/portal/disputes/${id}`);
    expect(seenByAda.json().decision).toEqual({
      reason: 'Referrer logs confirm the review', decidedBy: 'brand', decidedAt: expect.any(String),
      resolution: { kind: 'reattribute', saleId: sold.sale.id, amount: 1000, commissionId: resolution.commissionId, explanation: expect.any(Array) },
    });
    expect(seenByAda.body).not.toContain(bob.partnerId);
    expect(seenByAda.body).not.toContain(sold.commission!.id);
    const adaBalance = (await api('GET', `/api/v1/partners/${ada.partnerId}/balance?programId=${programId}`)).json();
    expect(adaBalance).toMatchObject({ payable: 1000 });
    const bobBalance = (await api('GET', `/api/v1/partners/${bob.partnerId}/balance?programId=${programId}`)).json();
    expect(bobBalance).toMatchObject({ pending: 0, payable: 0 });
    await expectLedgerOk();
  });

  it('rolls the whole decision back when the effect cannot apply', async () => {
    const filed = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', { kind: 'missing_credit', programId, orderId: 'INV-404', customerEmail: 'x@example.com', saleDate: '2026-01-01', message: 'Missing' })).json();
    const res = await api('POST', `/api/v1/disputes/${filed.id}/decide`, { decision: 'accepted', reason: 'ok', resolution: { kind: 'reattribute', saleId: 'sal_00000000000000000000000000' } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.details).toEqual([{ path: 'resolution.saleId', message: 'no sale of this workspace has this id' }]);
    expect((await api('GET', `/api/v1/disputes/${filed.id}`)).json()).toMatchObject({ status: 'open', decision: null });
    const release = await api('POST', `/api/v1/disputes/${filed.id}/decide`, { decision: 'accepted', reason: 'ok', resolution: { kind: 'release_hold' } });
    expect(release.statusCode).toBe(422);
    expect(release.json().error.details[0].path).toBe('resolution.kind');
  });
});

describe('disputes about a commission and a payout', () => {
  it('releases a held commission when its dispute is accepted, closing its review too', async () => {
    // Ada buys with her own email through her link: a self-referral, held for review.
    const own = await saleVia(ada, 'INV-200', { externalId: 'ada-herself', email: ada.email });
    expect(own.commission?.status).toBe('held');
    expect((await asUser(bob.actor)('POST', '/api/v1/portal/disputes', { kind: 'commission', commissionId: own.commission!.id, message: 'mine?' })).statusCode).toBe(404);
    const filed = await asUser(ada.actor)('POST', '/api/v1/portal/disputes', { kind: 'commission', commissionId: own.commission!.id, message: 'I bought it for my shop, which is a separate customer account.' });
    expect(filed.statusCode).toBe(201);
    expect(filed.json()).toMatchObject({ kind: 'commission', commissionId: own.commission!.id, programId });
    const decided = await api('POST', `/api/v1/disputes/${filed.json().id}/decide`, { decision: 'accepted', reason: 'Separate business account', resolution: { kind: 'release_hold' } });
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json().decision.resolution).toEqual({ kind: 'release_hold', commissionId: own.commission!.id });
    const { rows } = await ctx.pool.query('select c.status, a.review from commissions c join fraud_assessments a using (workspace_id) where c.workspace_id = $1 and c.id = $2 and a.commission_id = c.id', [brand.workspaceId, own.commission!.id]);
    expect(rows[0]).toEqual({ status: 'pending', review: 'released' });
    await expectLedgerOk();
  });

  it('credits an adjustment on an accepted payout dispute', async () => {
    const batch = await api('POST', '/api/v1/payouts', { programId, minAmount: 1 });
    expect(batch.statusCode, batch.body).toBe(201);
    const payout = batch.json().payouts.find((p: { partnerId: string }) => p.partnerId === ada.partnerId);
    expect(payout).toBeDefined();
    expect((await asUser(bob.actor)('POST', '/api/v1/portal/disputes', { kind: 'payout', payoutId: payout.id, message: 'x' })).statusCode).toBe(404);
    const filed = await asUser(ada.actor)('POST', '/api/v1/portal/disputes', { kind: 'payout', payoutId: payout.id, message: 'The March bonus of 2.50 is missing.' });
    expect(filed.statusCode).toBe(201);
    const decided = await api('POST', `/api/v1/disputes/${filed.json().id}/decide`, { decision: 'accepted', reason: 'Bonus was missed', resolution: { kind: 'adjustment', amount: 250 } });
    expect(decided.statusCode, decided.body).toBe(200);
    const commissionId = decided.json().decision.resolution.commissionId;
    expect(decided.json().decision.resolution).toEqual({ kind: 'adjustment', amount: 250, commissionId });
    expect((await commissionsOf(ada)).find((c) => c.id === commissionId)).toMatchObject({ kind: 'adjustment', amount: 250, status: 'payable' });
    await expectLedgerOk();
  });
});

describe('automatic acceptance at the deadline', () => {
  it('re-attributes the named sale when the program accepts unanswered claims', async () => {
    expect((await api('PUT', `/api/v1/programs/${programId}/dispute-policy`, { responseDays: 2, onDeadline: 'accept' })).statusCode).toBe(200);
    const sold = await saleVia(bob, 'INV-300', { externalId: 'cust-300' });
    const unknown = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', { kind: 'missing_credit', programId, orderId: 'INV-NOWHERE', customerEmail: 'y@example.com', saleDate: '2026-01-02', message: 'Missing too' })).json();
    const claim = (await asUser(ada.actor)('POST', '/api/v1/portal/disputes', { kind: 'missing_credit', programId, orderId: 'INV-300', customerEmail: 'z@example.com', saleDate: '2026-01-02', message: 'Mine' })).json();
    ctx.clock.advance(2 * DAY + MIN);
    await ctx.services.queue.enqueue(DISPUTE_DEADLINES_QUEUE, {});
    await ctx.services.queue.drain();
    const decided = (await api('GET', `/api/v1/disputes/${claim.id}`)).json();
    expect(decided).toMatchObject({ status: 'accepted', decision: { decidedBy: 'system', resolution: { kind: 'reattribute', saleId: sold.sale.id, amount: 1000 } } });
    // Nothing follows from an order id no sale carries: it is escalated to a person instead.
    expect((await api('GET', `/api/v1/disputes/${unknown.id}`)).json()).toMatchObject({ status: 'open', escalated: true });
    await expectLedgerOk();
  });

  it("never moves a sale to a claimant whose enrollment is not approved: the claim goes to a person", async () => {
    const pending = await partnerWithLogin('Pat');
    await ctx.pool.query(`update enrollments set status = 'pending' where workspace_id = $1 and program_id = $2 and partner_id = $3`, [brand.workspaceId, programId, pending.partnerId]);
    const sold = await saleVia(bob, 'INV-310', { externalId: 'cust-310' });
    const claim = (await asUser(pending.actor)('POST', '/api/v1/portal/disputes', { kind: 'missing_credit', programId, orderId: 'INV-310', customerEmail: 'p@example.com', saleDate: '2026-01-02', message: 'Mine' })).json();
    ctx.clock.advance(2 * DAY + MIN);
    await ctx.services.queue.enqueue(DISPUTE_DEADLINES_QUEUE, {});
    await ctx.services.queue.drain();
    expect((await api('GET', `/api/v1/disputes/${claim.id}`)).json()).toMatchObject({ status: 'open', escalated: true });
    const { rows } = await ctx.pool.query('select partner_id from sales where workspace_id = $1 and id = $2', [brand.workspaceId, sold.sale.id]);
    expect(rows[0].partner_id).toBe(bob.partnerId);
    expect((await commissionsOf(bob)).find((c) => c.sale_id === sold.sale.id)).toMatchObject({ status: 'pending' });
  });
});

describe("a partner's own IP address", () => {
  it('is remembered when the partner files, and holds a sale clicked from it the same day', async () => {
    const noon = new Date(ctx.clock.now.getTime() + DAY);
    noon.setUTCHours(12, 0, 0, 0);
    ctx.clock.set(noon);
    const filed = await ctx.app.inject({
      method: 'POST', url: '/api/v1/portal/disputes', remoteAddress: '203.0.113.9',
      headers: { cookie: bob.actor.cookie, 'x-csrf-token': bob.actor.csrf },
      payload: { kind: 'missing_credit', programId, orderId: 'INV-IP', customerEmail: 'w@example.com', saleDate: '2026-01-03', message: 'Missing' },
    });
    expect(filed.statusCode).toBe(201);
    const { rows } = await ctx.pool.query(`select value_hash from partner_identities where workspace_id = $1 and partner_id = $2 and kind = 'ip_hash'`, [brand.workspaceId, bob.partnerId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].value_hash).not.toContain('203.0.113.9');

    const clickAt = new Date(noon.getTime() - 2 * 3600_000);
    const uuid = uuidv7(clickAt.getTime());
    await ctx.pool.query(
      `insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at, ip_hash, visitor_hash) values ($1, $2, $3, $4, $5, $6, $7, 'dev:bob')`,
      [brand.workspaceId, uuid, bob.linkId, programId, bob.partnerId, clickAt, rows[0].value_hash],
    );
    const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'bob-friend' }, amount: 5000, currency: 'USD', invoiceId: 'INV-BOB-IP', clickId: clickIdFromUuid(uuid) });
    expect(res.json().commission).toMatchObject({ status: 'held' });
    const item = (await api('GET', `/api/v1/reviews?partnerId=${bob.partnerId}`)).json().data[0];
    expect(item.signals[0]).toMatchObject({ type: 'self_referral', evidence: { matched: 'ip_hash' } });
  });
});

describe("the partners' sale counts fraud scoring reads", () => {
  /** The trigger-kept counts against a count of the sales themselves. */
  async function expectCountsMatchSales() {
    const counted = await ctx.pool.query<{ partner_id: string; program_id: string; sales: number; refunded: number }>(
      `select partner_id, program_id, sales, refunded_sales as refunded from partner_sale_counts where workspace_id = $1 and sales > 0 order by 1, 2`,
      [brand.workspaceId],
    );
    const actual = await ctx.pool.query<{ partner_id: string; program_id: string; sales: number; refunded: number }>(
      `select partner_id, program_id, count(*)::int as sales, (count(*) filter (where refunded_amount > 0))::int as refunded
         from sales where workspace_id = $1 and partner_id is not null group by 1, 2 order by 1, 2`,
      [brand.workspaceId],
    );
    expect(counted.rows).toEqual(actual.rows);
    return counted.rows;
  }

  /** The trigger-kept monthly earnings the cap check reads, against a sum of the commissions themselves. */
  async function expectEarningsMatchCommissions() {
    const kept = await ctx.pool.query(
      `select program_id, partner_id, month::text, earned::int from partner_monthly_earnings where workspace_id = $1 and earned <> 0 order by 1, 2, 3`,
      [brand.workspaceId],
    );
    const summed = await ctx.pool.query(
      `select program_id, partner_id, date_trunc('month', occurred_at at time zone 'UTC')::date::text as month, sum(amount - reversed_amount)::int as earned
         from commissions where workspace_id = $1 group by 1, 2, 3 having sum(amount - reversed_amount) <> 0 order by 1, 2, 3`,
      [brand.workspaceId],
    );
    expect(kept.rows.length).toBeGreaterThan(0);
    expect(kept.rows).toEqual(summed.rows);
  }

  it('follow attribution, re-attribution, refunds (a sale counts once however often refunded) and deletion', async () => {
    // So do the monthly earnings the cap reads: re-attribution reversed Bob's commission and paid Ada an adjustment.
    await expectEarningsMatchCommissions();
    // The re-attributed sale of the first test already counts for Ada, no longer for Bob.
    await expectCountsMatchSales();
    const first = await saleVia(bob, 'INV-COUNT-1', { externalId: 'cust-count-1' });
    await saleVia(bob, 'INV-COUNT-2', { externalId: 'cust-count-2' });
    const before = (await expectCountsMatchSales()).find((r) => r.partner_id === bob.partnerId)!;

    for (const amount of [1_000, 2_000]) {
      const refund = await api('POST', '/api/v1/track/refund', { invoiceId: 'INV-COUNT-1', amount });
      expect(refund.statusCode, refund.body).toBe(200);
    }
    const refunded = (await expectCountsMatchSales()).find((r) => r.partner_id === bob.partnerId)!;
    expect(refunded).toMatchObject({ sales: before.sales, refunded: before.refunded + 1 });

    await expectEarningsMatchCommissions();

    await ctx.pool.query('delete from sales where workspace_id = $1 and id = $2', [brand.workspaceId, first.sale.id]);
    const after = (await expectCountsMatchSales()).find((r) => r.partner_id === bob.partnerId)!;
    expect(after).toMatchObject({ sales: before.sales - 1, refunded: before.refunded });
  });
});

describe('a sale moved to the same partner in another program', () => {
  it("reverses the partner's credit in the program the sale leaves: it is paid once, in the new one", async () => {
    const other = await api('POST', '/api/v1/programs', { name: 'Acme Second', currency: 'USD', destinationUrl: 'https://acme.example.com/two', rules: { sale: { type: 'percentage', amount: 20 } } });
    expect(other.statusCode, other.body).toBe(201);
    const mover = await partnerWithLogin('Moe');
    expect((await api('POST', `/api/v1/programs/${other.json().id}/partners`, { email: mover.email, name: 'Moe', status: 'approved' })).statusCode).toBe(201);
    const sold = await saleVia(mover, 'INV-MOVE', { externalId: 'cust-move' });
    expect(sold.commission).toMatchObject({ amount: 1000 });
    const filed = await asUser(mover.actor)('POST', '/api/v1/portal/disputes', {
      kind: 'missing_credit', programId: other.json().id, orderId: 'INV-MOVE', customerEmail: 'm@example.com', saleDate: NOW.toISOString().slice(0, 10), message: 'Belongs to the second program.', evidenceUrls: [],
    });
    expect(filed.statusCode, filed.body).toBe(201);
    const decided = await api('POST', `/api/v1/disputes/${filed.json().id}/decide`, { decision: 'accepted', reason: 'ok', resolution: { kind: 'reattribute', saleId: sold.sale.id } });
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json().decision.resolution).toMatchObject({ reversedCommissionIds: [sold.commission!.id], amount: 2000 });
    const credits = await commissionsOf(mover);
    expect(credits.map((c) => [c.kind, c.amount, c.status])).toEqual([['sale', 1000, 'reversed'], ['adjustment', 2000, 'payable']]);
    await expectLedgerOk();
  });
});

/** Files a missing-credit claim as `claimant` in `inProgram` and has the brand accept it, moving the sale. */
async function reattributeTo(claimant: TestPartner, orderId: string, saleId: string, inProgram = programId) {
  const filed = await asUser(claimant.actor)('POST', '/api/v1/portal/disputes', {
    kind: 'missing_credit', programId: inProgram, orderId, customerEmail: 'c@example.com', saleDate: NOW.toISOString().slice(0, 10), message: 'Mine.', evidenceUrls: [],
  });
  expect(filed.statusCode, filed.body).toBe(201);
  const decided = await api('POST', `/api/v1/disputes/${filed.json().id}/decide`, { decision: 'accepted', reason: 'ok', resolution: { kind: 'reattribute', saleId } });
  expect(decided.statusCode, decided.body).toBe(200);
  return decided.json().decision.resolution as { amount: number; commissionId: string | null; reversedCommissionIds: string[] };
}

describe('a sale re-attributed twice', () => {
  it('reverses the first claimant\'s credit when the sale moves on: only the partner it ends with is paid', async () => {
    const seller = await partnerWithLogin('Sam');
    const first = await partnerWithLogin('Fay');
    const second = await partnerWithLogin('Gus');
    const sold = await saleVia(seller, 'INV-TWICE', { externalId: 'cust-twice' });
    const toFirst = await reattributeTo(first, 'INV-TWICE', sold.sale.id);
    expect(toFirst).toMatchObject({ amount: 1000, reversedCommissionIds: [sold.commission!.id] });
    const toSecond = await reattributeTo(second, 'INV-TWICE', sold.sale.id);
    expect(toSecond).toMatchObject({ amount: 1000, reversedCommissionIds: [toFirst.commissionId] });
    expect((await commissionsOf(first)).map((c) => [c.kind, c.status])).toEqual([['adjustment', 'reversed']]);
    expect((await commissionsOf(second)).map((c) => [c.kind, c.status])).toEqual([['adjustment', 'payable']]);
    // A full refund now takes back the second claimant's credit, and nothing else is left standing.
    expect((await api('POST', '/api/v1/track/refund', { invoiceId: 'INV-TWICE' })).json().adjustments).toEqual([{ commissionId: toSecond.commissionId, amount: -1000 }]);
    await expectLedgerOk();
    expect(await replayStoredProgram(ctx.pool, programId)).toMatchObject({ differences: [] });
  });

  it('pays a "once" program\'s partner when its own first sale comes back to it', async () => {
    const once = await api('POST', '/api/v1/programs', { name: 'Acme Once', currency: 'USD', destinationUrl: 'https://acme.example.com/once', rules: { sale: { type: 'percentage', amount: 10, duration: 'once' } } });
    expect(once.statusCode, once.body).toBe(201);
    const onceId = once.json().id as string;
    const owner = await partnerWithLogin('Oona', onceId);
    const other = await partnerWithLogin('Otto', onceId);
    const sold = await saleVia(owner, 'INV-ONCE', { externalId: 'cust-once' }, 10_000, onceId);
    expect(sold.commission).toMatchObject({ amount: 1000 });
    expect(await reattributeTo(other, 'INV-ONCE', sold.sale.id, onceId)).toMatchObject({ amount: 1000 });
    // Back to its first partner: the referral began with this very sale, so it is still the first.
    expect(await reattributeTo(owner, 'INV-ONCE', sold.sale.id, onceId)).toMatchObject({ amount: 1000 });
    await expectLedgerOk();
  });
});

describe('a re-attributed sale that was refunded', () => {
  it('credits the claimant only what is left of a sale refunded before the decision', async () => {
    // Partners of their own, so that the other tests' exact lists of Ada's and Bob's commissions hold.
    const seller = await partnerWithLogin('Sid');
    const claimant = await partnerWithLogin('Cleo');
    const sold = await saleVia(seller, 'INV-REF-1', { externalId: 'cust-ref-1' });
    expect((await api('POST', '/api/v1/track/refund', { invoiceId: 'INV-REF-1', amount: 4_000 })).statusCode).toBe(200);
    const full = await saleVia(seller, 'INV-REF-2', { externalId: 'cust-ref-2' });
    expect((await api('POST', '/api/v1/track/refund', { invoiceId: 'INV-REF-2' })).statusCode).toBe(200);
    const claim = async (orderId: string, saleId: string) => {
      const filed = await asUser(claimant.actor)('POST', '/api/v1/portal/disputes', {
        kind: 'missing_credit', programId, orderId, customerEmail: 'reader@example.com', saleDate: NOW.toISOString().slice(0, 10), message: 'Mine.', evidenceUrls: [],
      });
      expect(filed.statusCode, filed.body).toBe(201);
      const decided = await api('POST', `/api/v1/disputes/${filed.json().id}/decide`, { decision: 'accepted', reason: 'ok', resolution: { kind: 'reattribute', saleId } });
      expect(decided.statusCode, decided.body).toBe(200);
      return decided.json().decision.resolution;
    };
    // 10 % of 10,000 less the 40 % refunded: 600. A sale refunded in full credits nothing.
    expect(await claim('INV-REF-1', sold.sale.id)).toMatchObject({ amount: 600, commissionId: expect.stringMatching(/^com_/) });
    expect(await claim('INV-REF-2', full.sale.id)).toMatchObject({ amount: 0, commissionId: null });
    const credited = await commissionsOf(claimant);
    expect(credited.map((c) => [c.kind, c.amount])).toEqual([['adjustment', 600]]);
    await expectLedgerOk();

    // Refunds after the re-attribution reduce the claimant's credit, as they would its commission:
    // half of the 6,000 left takes half of the 600, the rest takes the rest.
    const half = (await api('POST', '/api/v1/track/refund', { invoiceId: 'INV-REF-1', amount: 3_000 })).json();
    expect(half.adjustments).toEqual([{ commissionId: credited[0]!.id, amount: -300 }]);
    expect((await api('GET', `/api/v1/partners/${claimant.partnerId}/balance?programId=${programId}`)).json()).toMatchObject({ payable: 300 });
    const rest = (await api('POST', '/api/v1/track/refund', { invoiceId: 'INV-REF-1' })).json();
    expect(rest.adjustments).toEqual([{ commissionId: credited[0]!.id, amount: -300 }]);
    expect((await commissionsOf(claimant)).map((c) => [c.kind, c.amount, c.status])).toEqual([['adjustment', 600, 'reversed']]);
    expect((await api('GET', `/api/v1/partners/${claimant.partnerId}/balance?programId=${programId}`)).json()).toMatchObject({ payable: 0 });
    await expectLedgerOk();
    expect(await replayStoredProgram(ctx.pool, programId)).toMatchObject({ differences: [] });
  });
});
