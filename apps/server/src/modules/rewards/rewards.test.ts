import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../ledger/verify.js';
import { withTransaction } from '../../db/tx.js';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import type { PartnerFixture, ProgramFixture } from '../tracking/test-fixtures.js';
import { createAdjustment, holdCommission, releaseCommission, reverseCommission } from './index.js';
import { replayStoredProgram } from './replay.js';
import { loadProgramAndEnrollment } from './context.js';
import { insertPartnerWithTags, insertProgramWithRules } from './test-fixtures.js';

const NOW = new Date('2026-06-15T12:00:00.000Z');
let ctx: TestContext;
let brand: Actor;
let other: Actor;
let api: ReturnType<typeof asKey>;
let otherApi: ReturnType<typeof asKey>;

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
  other = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
  otherApi = asKey(ctx.app, other.apiKey);
});
afterAll(async () => ctx?.close());

let invoice = 0;
async function sale(partner: PartnerFixture, customer: string, amount: number, occurredAt: string, invoiceId = `inv-${++invoice}`) {
  const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: customer }, amount, currency: 'USD', invoiceId, couponCode: partner.couponCode, occurredAt });
  expect(res.statusCode).toBe(200);
  return { invoiceId, body: res.json() };
}
const balanceOf = async (program: ProgramFixture, partner: PartnerFixture) => (await api('GET', `/api/v1/partners/${partner.partnerId}/balance?programId=${program.programId}`)).json();
const verify = async () => (await api('GET', '/api/v1/ledger/verify')).json();

describe('the worked example of rewards.md, end to end', () => {
  let program: ProgramFixture;
  let partner: PartnerFixture;
  let c2Invoice: string;

  beforeAll(async () => {
    program = await insertProgramWithRules(ctx.pool, brand.workspaceId, {
      sale: { type: 'percentage', amount: 10 },
      tiers: { period: 'quarter', levels: [{ min: 2, type: 'percentage', amount: 15 }] },
      qualification: { holdDays: 30 },
      bonuses: [{ kind: 'milestone', period: 'quarter', threshold: 2, amount: 5000 }],
    });
    partner = await insertPartnerWithTags(ctx.pool, program);
  });

  it('C1 and C2 sales earn 10 %, pending, payable 30 days later', async () => {
    const c1 = await sale(partner, 'C1', 10_000, '2026-01-05T00:00:00Z');
    expect(c1.body.commission).toEqual({ id: expect.stringMatching(/^com_/), amount: 1000, status: 'pending' });
    const c2 = await sale(partner, 'C2', 20_000, '2026-01-10T00:00:00Z');
    c2Invoice = c2.invoiceId;
    expect(c2.body.commission).toMatchObject({ amount: 2000, status: 'pending' });
    const list = (await api('GET', `/api/v1/commissions?programId=${program.programId}`)).json();
    expect(list.data.map((c: { amount: number; payableAt: string; rulesVersion: number; termsVersion: number }) => [c.amount, c.payableAt, c.rulesVersion, c.termsVersion])).toEqual([
      [2000, '2026-02-09T00:00:00.000Z', 1, 0],
      [1000, '2026-02-04T00:00:00.000Z', 1, 0],
    ]);
    expect(await balanceOf(program, partner)).toEqual({ currency: 'USD', pending: 3000, payable: 0, paid: 0 });
  });

  it('maturity asOf Feb 10 makes both payable, qualifies both and awards the milestone; repeating it changes nothing', async () => {
    const res = await api('POST', '/api/v1/jobs/mature', { asOf: '2026-02-10T00:00:00Z' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ payable: 2, qualified: 2, bonuses: 1 });
    expect((await api('POST', '/api/v1/jobs/mature', { asOf: '2026-02-10T00:00:00Z' })).json()).toEqual({ payable: 0, qualified: 0, bonuses: 0 });
    const bonus = (await api('GET', `/api/v1/commissions?programId=${program.programId}&status=payable`)).json().data.find((c: { kind: string }) => c.kind === 'bonus');
    expect(bonus).toMatchObject({ amount: 5000, status: 'payable', occurredAt: '2026-02-09T00:00:00.000Z' });
    const { rows: events } = await ctx.pool.query<{ type: string }>(`select type from outbox_events where workspace_id = $1 and data->>'id' = $2 order by id`, [brand.workspaceId, bonus.id]);
    expect(events.map((e) => e.type)).toEqual(['commission.created', 'commission.payable']);
    expect(await balanceOf(program, partner)).toEqual({ currency: 'USD', pending: 0, payable: 8000, paid: 0 });
  });

  it('C1 buys again Feb 15: q = 2 → tier 15 % → 1500, with the explanation', async () => {
    const c1b = await sale(partner, 'C1', 10_000, '2026-02-15T00:00:00Z');
    expect(c1b.body.commission).toMatchObject({ amount: 1500 });
    const c = (await api('GET', `/api/v1/commissions?programId=${program.programId}&status=pending`)).json().data[0];
    expect(c.explanation.map((s: { step: string }) => s.step)).toEqual(['eligibility', 'base', 'tier', 'amount', 'status']);
    expect(c.explanation[2].text).toContain('q = 2');
  });

  it('a payout pays the payable balance; the refund of C2 after it claws back −2000', async () => {
    const created = await api('POST', '/api/v1/payouts', { programId: program.programId, minAmount: 0 });
    expect(created.statusCode).toBe(201);
    const { batchId, payouts } = created.json();
    expect(payouts).toEqual([{ id: expect.stringMatching(/^pay_/), partnerId: partner.partnerId, amount: 8000, currency: 'USD', status: 'pending' }]);
    const csv = await api('GET', `/api/v1/payouts/batches/${batchId}.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[1]).toContain(`${payouts[0].id},${partner.partnerId},Partner,`);
    const paid = await api('POST', `/api/v1/payouts/${payouts[0].id}/mark-paid`, { reference: 'BANK-1' });
    expect(paid.statusCode).toBe(200);
    expect(paid.json()).toMatchObject({ status: 'paid', reference: 'BANK-1', amount: 8000 });
    expect(await balanceOf(program, partner)).toEqual({ currency: 'USD', pending: 1500, payable: 0, paid: 8000 });

    const refund = await api('POST', '/api/v1/track/refund', { invoiceId: c2Invoice });
    expect(refund.statusCode).toBe(200);
    expect(refund.json().adjustments).toEqual([{ commissionId: expect.stringMatching(/^com_/), amount: -2000 }]);
    const clawback = (await api('GET', `/api/v1/commissions?programId=${program.programId}`)).json().data.find((c: { kind: string }) => c.kind === 'clawback');
    expect(clawback).toMatchObject({ amount: -2000, status: 'payable' });
    expect(await balanceOf(program, partner)).toEqual({ currency: 'USD', pending: 1500, payable: -2000, paid: 8000 });
  });

  it('the chain verifies, events are in the outbox, and replay reports no difference', async () => {
    expect(await verify()).toMatchObject({ ok: true, problems: [] });
    const { rows } = await ctx.pool.query<{ type: string }>(`select type from outbox_events where workspace_id = $1 and type like 'commission.%' or type like 'payout.%' and workspace_id = $1`, [brand.workspaceId]);
    const types = new Set(rows.map((r) => r.type));
    for (const t of ['commission.created', 'commission.payable', 'payout.created', 'payout.paid']) expect(types).toContain(t);
    const report = await replayStoredProgram(ctx.pool, program.programId);
    expect(report.differences).toEqual([]);
    expect(report.commissions).toBe(5);
  });

  it('the statement carries the chain head, as CSV and as a printable page', async () => {
    const v = await verify();
    const csv = await api('GET', `/api/v1/partners/${partner.partnerId}/statement.csv?programId=${program.programId}`);
    expect(csv.statusCode).toBe(200);
    const lines = csv.body.trim().split('\r\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^chain_head,${program.programId}:${partner.partnerId},\\d+,[0-9a-f]{64}$`));
    expect(lines.at(-2)).toContain(',1500,-2000,8000,USD,');
    const html = await api('GET', `/api/v1/partners/${partner.partnerId}/statement.html?programId=${program.programId}`);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain(lines.at(-1)!.split(',')[3]);
    expect(v.head).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('exactly once, lead rewards and customer rewards', () => {
  it('a repeated invoice returns the same commission and writes one', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 300 } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    const first = await sale(partner, 'dup', 1000, '2026-06-01T00:00:00Z', 'inv-dup');
    const again = await sale(partner, 'dup', 1000, '2026-06-01T00:00:00Z', 'inv-dup');
    expect(again.body.commission).toEqual(first.body.commission);
    const { rows } = await ctx.pool.query('select count(*)::int as n from commissions where workspace_id = $1 and program_id = $2', [brand.workspaceId, program.programId]);
    expect(rows[0].n).toBe(1);
  });

  it('a lead earns lead.amount once per customer and carries the customer reward with the coupon code', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { lead: { type: 'flat', amount: 500 }, customerReward: { type: 'percentage', amount: 10, durationMonths: 3 }, qualification: { holdDays: 7 } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    const res = await api('POST', '/api/v1/track/lead', { customer: { externalId: 'lead-1' }, couponCode: partner.couponCode });
    expect(res.statusCode).toBe(200);
    expect(res.json().commission).toMatchObject({ amount: 500, status: 'pending' });
    expect(res.json().customerReward).toEqual({ type: 'percentage', amount: 10, durationMonths: 3, code: partner.couponCode });
    const second = await api('POST', '/api/v1/track/lead', { customer: { externalId: 'lead-1' }, couponCode: partner.couponCode, eventName: 'activated' });
    expect(second.json().commission).toEqual(res.json().commission);
    expect((await api('GET', `/api/v1/commissions?programId=${program.programId}&kind=lead`)).statusCode).toBe(422);
    const list = (await api('GET', `/api/v1/commissions?programId=${program.programId}`)).json();
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ kind: 'lead', payableAt: new Date(NOW.getTime() + 7 * 86_400_000).toISOString() });
  });

  it('an enrollment that is not approved earns nothing; an unattributed sale earns nothing', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 300 } });
    const suspended = await insertPartnerWithTags(ctx.pool, program, [], 'suspended');
    const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'x' }, amount: 100, currency: 'USD', invoiceId: 'inv-susp', couponCode: suspended.couponCode });
    expect(res.json().commission).toBeUndefined();
    const plain = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'y' }, amount: 100, currency: 'USD', invoiceId: 'inv-plain' });
    expect(plain.json()).toMatchObject({ attributed: false });
    expect(plain.json().commission).toBeUndefined();
  });
});

describe('listing commissions', () => {
  it('pages newest first with a cursor and filters by partner and status', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 10 } });
    const a = await insertPartnerWithTags(ctx.pool, program);
    const b = await insertPartnerWithTags(ctx.pool, program);
    const first = (await sale(a, 'page-1', 100, '2026-06-01T00:00:00Z')).body.commission.id;
    const second = (await sale(a, 'page-2', 100, '2026-06-02T00:00:00Z')).body.commission.id;
    await sale(b, 'page-3', 100, '2026-06-03T00:00:00Z');
    const page1 = (await api('GET', `/api/v1/commissions?programId=${program.programId}&partnerId=${a.partnerId}&limit=1`)).json();
    expect(page1.data.map((c: { id: string }) => c.id)).toEqual([second]);
    const page2 = (await api('GET', `/api/v1/commissions?programId=${program.programId}&partnerId=${a.partnerId}&limit=1&cursor=${page1.nextCursor}`)).json();
    expect(page2).toEqual({ data: [expect.objectContaining({ id: first, kind: 'sale', status: 'pending' })], nextCursor: null });
    expect((await api('GET', `/api/v1/commissions?programId=${program.programId}&status=payable`)).json().data).toEqual([]);
    expect((await api('GET', '/api/v1/commissions?cursor=nonsense')).statusCode).toBe(422);
  });
});

describe('payouts', () => {
  it('minAmount filters partners; a failed payout returns the money to payable and the next batch takes it; negative balances carry over', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'percentage', amount: 10 } });
    const big = await insertPartnerWithTags(ctx.pool, program);
    const small = await insertPartnerWithTags(ctx.pool, program);
    const bigSale = await sale(big, 'b1', 50_000, '2026-06-01T00:00:00Z');
    await sale(small, 's1', 1_000, '2026-06-01T00:00:00Z');
    await api('POST', '/api/v1/jobs/mature', {});
    const batch = (await api('POST', '/api/v1/payouts', { programId: program.programId, minAmount: 1000 })).json();
    expect(batch.payouts.map((p: { partnerId: string; amount: number }) => [p.partnerId, p.amount])).toEqual([[big.partnerId, 5000]]);
    const payoutId = batch.payouts[0].id;
    expect((await api('POST', `/api/v1/payouts/${payoutId}/processing`)).json()).toMatchObject({ status: 'processing' });
    const failed = await api('POST', `/api/v1/payouts/${payoutId}/mark-failed`, { reason: 'account closed' });
    expect(failed.json()).toMatchObject({ status: 'failed', failureReason: 'account closed' });
    expect((await api('POST', `/api/v1/payouts/${payoutId}/mark-paid`, { reference: 'late' })).statusCode).toBe(409);
    expect(await balanceOf(program, big)).toEqual({ currency: 'USD', pending: 0, payable: 5000, paid: 0 });

    const again = (await api('POST', '/api/v1/payouts', { programId: program.programId, minAmount: 1000 })).json();
    expect(again.payouts.map((p: { amount: number }) => p.amount)).toEqual([5000]);
    await api('POST', `/api/v1/payouts/${again.payouts[0].id}/mark-paid`, { reference: 'BANK-2' });
    expect((await api('POST', `/api/v1/payouts/${again.payouts[0].id}/mark-paid`, { reference: 'BANK-2' })).statusCode).toBe(200);
    expect((await api('POST', `/api/v1/payouts/${again.payouts[0].id}/mark-paid`, { reference: 'OTHER' })).statusCode).toBe(409);

    // Refund 60 % after payment: −3000 claws back; then a new 1000 commission: the next payout nets nothing (−2000 carries).
    await api('POST', '/api/v1/track/refund', { invoiceId: bigSale.invoiceId, amount: 30_000 });
    await sale(big, 'b2', 10_000, '2026-06-02T00:00:00Z');
    await api('POST', '/api/v1/jobs/mature', {});
    expect(await balanceOf(program, big)).toEqual({ currency: 'USD', pending: 0, payable: -2000, paid: 5000 });
    const none = (await api('POST', '/api/v1/payouts', { programId: program.programId, minAmount: 0 })).json();
    expect(none.payouts.filter((p: { partnerId: string }) => p.partnerId === big.partnerId)).toEqual([]);
    await sale(big, 'b3', 30_000, '2026-06-03T00:00:00Z');
    await api('POST', '/api/v1/jobs/mature', {});
    const netted = (await api('POST', '/api/v1/payouts', { programId: program.programId, minAmount: 0 })).json();
    expect(netted.payouts.find((p: { partnerId: string }) => p.partnerId === big.partnerId).amount).toBe(1000);

    const listed = (await api('GET', `/api/v1/payouts?programId=${program.programId}`)).json();
    expect(listed.data.map((p: { status: string }) => p.status)).toEqual(['pending', 'pending', 'paid', 'failed']);
    expect((await replayStoredProgram(ctx.pool, program.programId)).differences).toEqual([]);
    expect((await verify()).ok).toBe(true);
  });

  it('rejects bad input', async () => {
    expect((await api('POST', '/api/v1/payouts', { programId: 'prg_nope' })).statusCode).toBe(404);
    expect((await api('POST', '/api/v1/payouts', { programId: 'x', minAmount: -1 })).statusCode).toBe(422);
    expect((await api('POST', '/api/v1/payouts/pay_nope/mark-paid', {})).statusCode).toBe(422);
    expect((await api('POST', '/api/v1/payouts/pay_nope/mark-paid', { reference: 'r' })).statusCode).toBe(404);
    expect((await api('GET', '/api/v1/payouts/batches/pbt_nope.csv')).statusCode).toBe(404);
    expect((await api('POST', '/api/v1/jobs/mature', { asOf: 'yesterday' })).statusCode).toBe(422);
    expect((await api('GET', '/api/v1/partners/ptn_x/balance')).statusCode).toBe(422);
  });
});

describe('holds, releases, reversals, adjustments (the seams for fraud and disputes)', () => {
  it('each posts its entries and keeps replay and the chain in agreement', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 1000 } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    const a = (await sale(partner, 'h1', 100, '2026-06-01T00:00:00Z')).body.commission.id;
    const b = (await sale(partner, 'h2', 100, '2026-06-01T00:00:00Z')).body.commission.id;
    await api('POST', '/api/v1/jobs/mature', {});
    const ws = brand.workspaceId;
    await withTransaction(ctx.pool, (c) => holdCommission(c, { workspaceId: ws, commissionId: a, reason: 'fraud review' }));
    expect(await balanceOf(program, partner)).toEqual({ currency: 'USD', pending: 1000, payable: 1000, paid: 0 });
    await expect(withTransaction(ctx.pool, (c) => releaseCommission(c, { workspaceId: ws, commissionId: b }))).rejects.toMatchObject({ code: 'conflict' });
    await withTransaction(ctx.pool, (c) => releaseCommission(c, { workspaceId: ws, commissionId: a }));
    await api('POST', '/api/v1/jobs/mature', {});
    expect(await balanceOf(program, partner)).toEqual({ currency: 'USD', pending: 0, payable: 2000, paid: 0 });
    const reversed = await withTransaction(ctx.pool, (c) => reverseCommission(c, { workspaceId: ws, commissionId: b, reason: 'fraud' }));
    expect(reversed).toMatchObject({ status: 'reversed', reversed_amount: 1000 });
    await withTransaction(ctx.pool, (c) => createAdjustment(c, { workspaceId: ws, programId: program.programId, partnerId: partner.partnerId, amount: -250, currency: 'USD', reason: 'dispute settled' }));
    await expect(withTransaction(ctx.pool, (c) => createAdjustment(c, { workspaceId: ws, programId: program.programId, partnerId: partner.partnerId, amount: 1, currency: 'EUR', reason: 'x' }))).rejects.toMatchObject({ code: 'unprocessable' });
    await expect(withTransaction(ctx.pool, (c) => holdCommission(c, { workspaceId: other.workspaceId, commissionId: a, reason: 'x' }))).rejects.toMatchObject({ code: 'not_found' });
    expect(await balanceOf(program, partner)).toEqual({ currency: 'USD', pending: 0, payable: 750, paid: 0 });
    expect((await replayStoredProgram(ctx.pool, program.programId)).differences).toEqual([]);
    const { rows } = await ctx.pool.query(`select count(*)::int as n from outbox_events where workspace_id = $1 and type = 'commission.reversed'`, [ws]);
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
  });
});

describe('preview', () => {
  it('explains what a partner would earn now, with stored or unsaved rules', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, {
      sale: { type: 'percentage', amount: 20 },
      boosts: [{ from: '2026-06-01T00:00:00Z', to: '2026-07-01T00:00:00Z', multiplier: 1.5, partnerTags: ['launch'] }],
    });
    const partner = await insertPartnerWithTags(ctx.pool, program, ['launch']);
    const res = await api('POST', `/api/v1/programs/${program.programId}/preview`, { partnerId: partner.partnerId, event: { type: 'sale', amount: 10_000 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ earns: true, amount: 3000, currency: 'USD', rulesVersion: 1, reason: null });
    expect(res.json().explanation.map((s: { text: string }) => s.text)).toContain('boost × 1.5: 2000 → 3000');
    const unsaved = await api('POST', `/api/v1/programs/${program.programId}/preview`, { partnerId: partner.partnerId, event: { type: 'lead' }, rules: { lead: { type: 'flat', amount: 700 } } });
    expect(unsaved.json()).toMatchObject({ earns: true, amount: 700, rulesVersion: null });
    const bad = await api('POST', `/api/v1/programs/${program.programId}/preview`, { partnerId: partner.partnerId, event: { type: 'sale', amount: 1 }, rules: { sale: { type: 'percentage', amount: 5, extra: 1 } } });
    expect(bad.statusCode).toBe(422);
    expect((await api('POST', `/api/v1/programs/${program.programId}/preview`, { partnerId: 'ptn_nope', event: { type: 'lead' } })).statusCode).toBe(404);
  });
});

describe('tenant isolation', () => {
  it("another workspace's program, partner, payout and batch are not found", async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 100 } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    await sale(partner, 'iso', 100, '2026-06-01T00:00:00Z');
    await api('POST', '/api/v1/jobs/mature', {});
    const batch = (await api('POST', '/api/v1/payouts', { programId: program.programId, minAmount: 0 })).json();
    const q = `programId=${program.programId}`;
    expect((await otherApi('GET', `/api/v1/partners/${partner.partnerId}/balance?${q}`)).statusCode).toBe(404);
    expect((await otherApi('GET', `/api/v1/partners/${partner.partnerId}/statement.csv?${q}`)).statusCode).toBe(404);
    expect((await otherApi('POST', `/api/v1/programs/${program.programId}/preview`, { partnerId: partner.partnerId, event: { type: 'lead' } })).statusCode).toBe(404);
    expect((await otherApi('POST', '/api/v1/payouts', { programId: program.programId })).statusCode).toBe(404);
    expect((await otherApi('POST', `/api/v1/payouts/${batch.payouts[0].id}/mark-paid`, { reference: 'x' })).statusCode).toBe(404);
    expect((await otherApi('GET', `/api/v1/payouts/batches/${batch.batchId}.csv`)).statusCode).toBe(404);
    expect((await otherApi('GET', `/api/v1/commissions?${q}`)).json().data).toEqual([]);
    expect((await otherApi('GET', '/api/v1/ledger/verify')).json()).toMatchObject({ ok: true, entries: 0, head: null });
    expect((await otherApi('POST', '/api/v1/jobs/mature', {})).json()).toEqual({ payable: 0, qualified: 0, bonuses: 0 });
  });
});

describe('tampering is detected by GET /ledger/verify', () => {
  it('an edited posting, an edited entry and a deleted newest entry all fail verification', async () => {
    const fresh = await signupActor(ctx.app);
    const freshApi = asKey(ctx.app, fresh.apiKey);
    const program = await insertProgramWithRules(ctx.pool, fresh.workspaceId, { sale: { type: 'flat', amount: 100 } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    for (const [i, c] of ['t1', 't2', 't3'].entries()) {
      const res = await freshApi('POST', '/api/v1/track/sale', { customer: { externalId: c }, amount: 100, currency: 'USD', invoiceId: `t-${i}`, couponCode: partner.couponCode });
      expect(res.json().commission.amount).toBe(100);
    }
    const check = async () => (await freshApi('GET', '/api/v1/ledger/verify')).json();
    expect(await check()).toMatchObject({ ok: true, entries: 3, chains: 1 });
    const ws = fresh.workspaceId;

    await ctx.pool.query(`update ledger_postings set amount = amount * 2 where workspace_id = $1 and line = 0 and entry_id = (select id from ledger_entries where workspace_id = $1 and seq = 2)`, [ws]);
    expect((await check()).problems).toEqual([expect.objectContaining({ seq: 2, problem: 'hash_mismatch' })]);
    await ctx.pool.query(`update ledger_postings set amount = amount / 2 where workspace_id = $1 and line = 0 and entry_id = (select id from ledger_entries where workspace_id = $1 and seq = 2)`, [ws]);
    expect((await check()).ok).toBe(true);

    await ctx.pool.query(`update ledger_entries set postings = jsonb_set(postings, '{0,amount}', '1') where workspace_id = $1 and seq = 1`, [ws]);
    const edited = await check();
    expect(edited.ok).toBe(false);
    expect(edited.problems.map((p: { problem: string }) => p.problem)).toContain('hash_mismatch');

    await ctx.pool.query(`delete from ledger_entries where workspace_id = $1 and seq = 3`, [ws]);
    const deleted = (await check()).problems.map((p: { problem: string }) => p.problem);
    // The head names the deleted entry, and its posting rows are left without one.
    expect(deleted).toContain('head_mismatch');
    expect(deleted).toContain('orphan_posting');
  });

  it('a posting row moved to another partner, an inserted posting row, and a head deleted with its newest entry all fail verification', async () => {
    const fresh = await signupActor(ctx.app);
    const freshApi = asKey(ctx.app, fresh.apiKey);
    const program = await insertProgramWithRules(ctx.pool, fresh.workspaceId, { sale: { type: 'flat', amount: 100 } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    for (const [i, c] of ['u1', 'u2'].entries()) {
      expect((await freshApi('POST', '/api/v1/track/sale', { customer: { externalId: c }, amount: 100, currency: 'USD', invoiceId: `u-${i}`, couponCode: partner.couponCode })).statusCode).toBe(200);
    }
    const check = async () => (await freshApi('GET', '/api/v1/ledger/verify')).json();
    expect(await check()).toMatchObject({ ok: true, entries: 2 });
    const ws = fresh.workspaceId;
    const firstEntry = `(select id from ledger_entries where workspace_id = $1 and seq = 1)`;

    // Balances sum posting rows by partner: a row moved to another partner changes two balances.
    await ctx.pool.query(`update ledger_postings set partner_id = 'ptn_someone_else' where workspace_id = $1 and line = 0 and entry_id = ${firstEntry}`, [ws]);
    expect((await check()).problems).toEqual([expect.objectContaining({ seq: 1, problem: 'hash_mismatch' })]);
    await ctx.pool.query(`update ledger_postings set partner_id = $2 where workspace_id = $1 and line = 0 and entry_id = ${firstEntry}`, [ws, partner.partnerId]);
    expect((await check()).ok).toBe(true);

    await ctx.pool.query(
      `insert into ledger_postings (workspace_id, entry_id, line, program_id, partner_id, account, amount) values ($1, 'jen_forged', 0, $2, $3, 'payable', 100000)`,
      [ws, program.programId, partner.partnerId],
    );
    expect((await check()).problems).toEqual([{ chain: `${program.programId}:${partner.partnerId}`, seq: 0, problem: 'orphan_posting' }]);
    await ctx.pool.query(`delete from ledger_postings where workspace_id = $1 and entry_id = 'jen_forged'`, [ws]);

    // The newest entry, its postings and the chain's head row all deleted: the chain has no head left.
    await ctx.pool.query(`delete from ledger_postings where workspace_id = $1 and entry_id = (select id from ledger_entries where workspace_id = $1 and seq = 2)`, [ws]);
    await ctx.pool.query(`delete from ledger_entries where workspace_id = $1 and seq = 2`, [ws]);
    await ctx.pool.query(`delete from ledger_heads where workspace_id = $1`, [ws]);
    expect((await check()).problems).toEqual([expect.objectContaining({ seq: 1, problem: 'head_mismatch' })]);
  });
});

describe('verification streams the ledger in pages', () => {
  it('gives the same answer page by page across chains, and still finds an edit on a later page', async () => {
    const fresh = await signupActor(ctx.app);
    const program = await insertProgramWithRules(ctx.pool, fresh.workspaceId, { sale: { type: 'flat', amount: 100 } });
    const partners = [await insertPartnerWithTags(ctx.pool, program), await insertPartnerWithTags(ctx.pool, program)];
    const freshApi = asKey(ctx.app, fresh.apiKey);
    for (let i = 0; i < 6; i++) {
      const res = await freshApi('POST', '/api/v1/track/sale', { customer: { externalId: `page-${i}` }, amount: 100, currency: 'USD', invoiceId: `page-${i}`, couponCode: partners[i % 2]!.couponCode });
      expect(res.statusCode).toBe(200);
    }
    const whole = await verifyLedger(ctx.pool, fresh.workspaceId);
    expect(whole).toMatchObject({ ok: true, entries: 6, chains: 2 });
    for (const pageSize of [1, 2, 4]) expect(await verifyLedger(ctx.pool, fresh.workspaceId, pageSize)).toEqual(whole);
    // An edit in the last entry of the second chain: on the last page at two entries a page.
    await ctx.pool.query(
      `update ledger_entries set at = at + interval '1 second' where workspace_id = $1 and (chain, seq) = (select chain, seq from ledger_entries where workspace_id = $1 order by chain desc, seq desc limit 1)`,
      [fresh.workspaceId],
    );
    const paged = await verifyLedger(ctx.pool, fresh.workspaceId, 2);
    expect(paged.ok).toBe(false);
    expect(paged.problems).toEqual([expect.objectContaining({ seq: 3, problem: 'hash_mismatch' })]);
  });

  it('sees one snapshot: sales posted while it pages through the ledger are neither half-seen nor a head mismatch', async () => {
    const fresh = await signupActor(ctx.app);
    const program = await insertProgramWithRules(ctx.pool, fresh.workspaceId, { sale: { type: 'flat', amount: 100 } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    const freshApi = asKey(ctx.app, fresh.apiKey);
    const sell = async (n: number) => {
      const res = await freshApi('POST', '/api/v1/track/sale', { customer: { externalId: `during-${n}` }, amount: 100, currency: 'USD', invoiceId: `during-${n}`, couponCode: partner.couponCode });
      expect(res.statusCode).toBe(200);
    };
    for (let i = 0; i < 4; i++) await sell(i);
    // After each page, another sale extends the one chain being verified.
    let sold = 4;
    const during = await verifyLedger(ctx.pool, fresh.workspaceId, 1, () => sell(sold++));
    expect(sold).toBeGreaterThan(4);
    expect(during).toMatchObject({ ok: true, entries: 4, chains: 1, problems: [] });
    expect(await verifyLedger(ctx.pool, fresh.workspaceId)).toMatchObject({ ok: true, entries: sold, chains: 1 });
  });
});

describe('locks', () => {
  it("loading the program for a sale also takes the program (shared) and partner (exclusive) advisory locks", async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 1 } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    const held = await withTransaction(ctx.pool, async (client) => {
      const loaded = await loadProgramAndEnrollment(client, brand.workspaceId, program.programId, partner.enrollmentId, NOW, partner.partnerId);
      expect(loaded?.enrollment).toMatchObject({ partnerId: partner.partnerId, earns: true, termsVersion: 0 });
      const { rows } = await client.query<{ classid: number; mode: string }>(`select classid, mode from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() order by classid`);
      return rows;
    });
    expect(held).toEqual([{ classid: 41, mode: 'ShareLock' }, { classid: 42, mode: 'ExclusiveLock' }]);
  });
});

describe('bonuses at maturity', () => {
  it('are not awarded to a partner whose enrollment cannot earn any more (banned); replay agrees', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, {
      sale: { type: 'flat', amount: 100 },
      qualification: { holdDays: 0 },
      bonuses: [{ kind: 'milestone', period: 'month', threshold: 1, amount: 5000 }],
    });
    const kept = await insertPartnerWithTags(ctx.pool, program);
    const banned = await insertPartnerWithTags(ctx.pool, program);
    await sale(kept, 'bonus-kept', 1000, '2026-06-01T10:00:00Z');
    await sale(banned, 'bonus-banned', 1000, '2026-06-01T11:00:00Z');
    await ctx.pool.query(`update enrollments set status = 'banned' where workspace_id = $1 and id = $2`, [brand.workspaceId, banned.enrollmentId]);
    expect((await api('POST', '/api/v1/jobs/mature', { asOf: '2026-06-02T00:00:00Z' })).json()).toMatchObject({ bonuses: 1 });
    const { rows } = await ctx.pool.query<{ partner_id: string }>(`select partner_id from commissions where workspace_id = $1 and program_id = $2 and kind = 'bonus'`, [brand.workspaceId, program.programId]);
    expect(rows.map((r) => r.partner_id)).toEqual([kept.partnerId]);
    expect(await replayStoredProgram(ctx.pool, program.programId)).toMatchObject({ differences: [] });
  });
});

describe('bonuses and terms', () => {
  it('are not awarded to a partner who has not accepted the current terms past their grace period; replay agrees', async () => {
    const ws = brand.workspaceId;
    const program = await insertProgramWithRules(ctx.pool, ws, {
      sale: { type: 'flat', amount: 100 },
      qualification: { holdDays: 0 },
      bonuses: [{ kind: 'milestone', period: 'month', threshold: 1, amount: 5000 }],
    });
    const current = await insertPartnerWithTags(ctx.pool, program);
    const lapsed = await insertPartnerWithTags(ctx.pool, program);
    await sale(current, 'bonus-terms-current', 1000, '2026-06-01T10:00:00Z');
    await sale(lapsed, 'bonus-terms-lapsed', 1000, '2026-06-01T11:00:00Z');
    // New terms, published long enough ago that their grace period is over; only one partner accepted them.
    await ctx.pool.query(`insert into program_terms_versions (workspace_id, program_id, version, text, created_at) values ($1, $2, 1, 'v1', $3)`, [
      ws, program.programId, new Date(NOW.getTime() - 100 * 86_400_000),
    ]);
    await ctx.pool.query('update programs set terms_version = 1 where workspace_id = $1 and id = $2', [ws, program.programId]);
    await ctx.pool.query('update enrollments set accepted_terms_version = 1 where workspace_id = $1 and id = $2', [ws, current.enrollmentId]);
    expect((await api('POST', '/api/v1/jobs/mature', { asOf: '2026-06-02T00:00:00Z' })).json()).toMatchObject({ bonuses: 1 });
    const { rows } = await ctx.pool.query<{ partner_id: string }>(`select partner_id from commissions where workspace_id = $1 and program_id = $2 and kind = 'bonus'`, [ws, program.programId]);
    expect(rows.map((r) => r.partner_id)).toEqual([current.partnerId]);
    const { rows: logged } = await ctx.pool.query<{ payload: { withheldFrom?: string[] } }>(`select payload from reward_events where workspace_id = $1 and program_id = $2 and type = 'mature'`, [ws, program.programId]);
    expect(logged.map((r) => r.payload.withheldFrom)).toEqual([[lapsed.partnerId]]);
    expect(await replayStoredProgram(ctx.pool, program.programId)).toMatchObject({ differences: [] });
  });
});

describe('duration "once"', () => {
  it('pays one of two invoices the customer paid in the same second, and replay agrees', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 100, duration: 'once' } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    const first = await sale(partner, 'once-same-second', 1000, '2026-06-10T08:00:00Z');
    const second = await sale(partner, 'once-same-second', 1000, '2026-06-10T08:00:00Z');
    expect(first.body.commission).toMatchObject({ amount: 100 });
    expect(second.body.commission).toBeUndefined();
    const report = await replayStoredProgram(ctx.pool, program.programId);
    expect(report).toMatchObject({ commissions: 1, differences: [] });
  });
});

describe('terms versions', () => {
  it('stores the terms version earned under; without accepted terms, or past the grace period, nothing is earned', async () => {
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 100 } });
    const accepted = await insertPartnerWithTags(ctx.pool, program);
    const never = await insertPartnerWithTags(ctx.pool, program);
    const ws = brand.workspaceId;
    await ctx.pool.query(`insert into program_terms_versions (workspace_id, program_id, version, text, created_at) values ($1, $2, 1, 'v1', $3), ($1, $2, 2, 'v2', $4)`, [
      ws, program.programId, new Date(NOW.getTime() - 100 * 86_400_000), new Date(NOW.getTime() - 86_400_000),
    ]);
    await ctx.pool.query('update programs set terms_version = 2 where workspace_id = $1 and id = $2', [ws, program.programId]);
    await ctx.pool.query('update enrollments set accepted_terms_version = 1 where workspace_id = $1 and id = $2', [ws, accepted.enrollmentId]);
    const within = await sale(accepted, 'terms-1', 100, '2026-06-10T00:00:00Z');
    expect(within.body.commission).toMatchObject({ amount: 100 });
    expect((await sale(never, 'terms-2', 100, '2026-06-10T00:00:00Z')).body.commission).toBeUndefined();
    const listed = (await api('GET', `/api/v1/commissions?programId=${program.programId}`)).json().data;
    expect(listed.map((c: { termsVersion: number }) => c.termsVersion)).toEqual([1]);
    // The grace period (14 days) of version 2 ends: version-1 acceptance no longer earns.
    await ctx.pool.query('update program_terms_versions set created_at = $3 where workspace_id = $1 and program_id = $2 and version = 2', [ws, program.programId, new Date(NOW.getTime() - 15 * 86_400_000)]);
    expect((await sale(accepted, 'terms-3', 100, '2026-06-10T00:00:00Z')).body.commission).toBeUndefined();
  });
});
