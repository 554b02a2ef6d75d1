import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { replayStoredProgram } from '../rewards/replay.js';
import { holdCommission } from '../rewards/index.js';
import { withTransaction } from '../../db/tx.js';

const NOW = new Date('2030-05-01T12:00:00Z');
let ctx: TestContext;

interface Brand {
  actor: Actor;
  api: ReturnType<typeof asKey>;
  programId: string;
  ws: string;
}

async function brand(name: string, currency = 'USD'): Promise<Brand> {
  const actor = await signupActor(ctx.app, { workspaceName: name, name: `${name} Owner` });
  const api = asKey(ctx.app, actor.apiKey);
  const program = await api('POST', '/api/v1/programs', {
    name: `${name} Program`, currency, destinationUrl: `https://${actor.workspaceSlug}.example.com/`, status: 'active',
    rules: { sale: { type: 'percentage', amount: 10 } },
  });
  expect(program.statusCode, program.body).toBe(201);
  return { actor, api, programId: program.json().id, ws: actor.workspaceId };
}

async function partnership(a: Brand, ...others: Brand[]): Promise<string> {
  const id = (await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: others[0]!.actor.workspaceSlug, programId: a.programId })).json().id;
  expect((await others[0]!.api('POST', `/api/v1/partnerships/${id}/accept`, { programId: others[0]!.programId })).statusCode).toBe(200);
  for (const o of others.slice(1)) {
    expect((await a.api('POST', `/api/v1/partnerships/${id}/members`, { inviteWorkspaceSlug: o.actor.workspaceSlug })).statusCode).toBe(201);
    expect((await o.api('POST', `/api/v1/partnerships/${id}/accept`, { programId: o.programId })).statusCode).toBe(200);
  }
  return id;
}

/** The enrollment of `guest`'s brand in `host`'s program. */
const enrollmentOf = async (host: Brand, guest: Brand) => {
  const list = (await host.api('GET', `/api/v1/programs/${host.programId}/partners`)).json().data;
  return list.find((e: { partner: { email: string } }) => e.partner.email === guest.actor.email.toLowerCase()) as { partner: { id: string }; couponCode: string };
};

let invoice = 0;
/** `host` comes to owe `guest` 10 % of `amount`, payable at once (no hold days). */
async function owe(host: Brand, guest: Brand, commission: number, minutesAgo = 0): Promise<string> {
  const e = await enrollmentOf(host, guest);
  const invoiceId = `inv-${++invoice}`;
  const res = await host.api('POST', '/api/v1/track/sale', {
    customer: { externalId: `cust-${invoice}` }, amount: commission * 10, currency: 'USD', invoiceId, couponCode: e.couponCode,
    occurredAt: new Date(ctx.clock.now.getTime() - minutesAgo * 60_000).toISOString(),
  });
  expect(res.statusCode, res.body).toBe(200);
  expect((await host.api('POST', '/api/v1/jobs/mature', { asOf: ctx.clock.now.toISOString() })).statusCode).toBe(200);
  return invoiceId;
}

const balanceOf = async (host: Brand, guest: Brand) => {
  const e = await enrollmentOf(host, guest);
  return (await host.api('GET', `/api/v1/partners/${e.partner.id}/balance?programId=${host.programId}`)).json();
};
const commissionsOf = async (host: Brand) =>
  (await host.api('GET', `/api/v1/commissions?programId=${host.programId}`)).json().data as { id: string; amount: number; status: string; payoutId: string | null; kind: string }[];
const payoutsOf = async (host: Brand) => (await host.api('GET', '/api/v1/payouts')).json().data as { id: string; partnerId: string; amount: number; status: string; settlementId: string | null; batchId: string }[];
const verified = async (b: Brand) => (await b.api('GET', '/api/v1/ledger/verify')).json();
const clearing = async (b: Brand) =>
  Number((await ctx.pool.query(`select coalesce(sum(amount), 0)::bigint as total from ledger_postings where workspace_id = $1 and account = $2`, [b.ws, `program:${b.programId}:partnership_clearing`])).rows[0].total);
const outbox = async (b: Brand, type: string) => (await ctx.pool.query('select data from outbox_events where workspace_id = $1 and type = $2', [b.ws, type])).rows.map((r) => r.data);

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
});
afterAll(async () => ctx?.close());

describe('settling a two-brand partnership by netting', () => {
  let a: Brand;
  let b: Brand;
  let id: string;
  let bOwesAInvoice: string;
  let settlement: { id: string; offset: number; net: { owedByWorkspaceId: string; owedToWorkspaceId: string; amount: number; payoutId: string; payoutIds: string[] }; gross: { owedByWorkspaceId: string; amount: number }[] };

  beforeAll(async () => {
    a = await brand('Alpha Roasters');
    b = await brand('Beta Bakes');
    id = await partnership(a, b);
    // A owes B 4,000 (older) + 8,000 = 12,000; B owes A 5,000.
    await owe(a, b, 4_000, 30);
    await owe(a, b, 8_000, 10);
    bOwesAInvoice = await owe(b, a, 5_000, 20);
  });

  it('offsets 5,000 both ways and leaves one payout of 7,000 from A to B', async () => {
    const res = await b.api('POST', `/api/v1/partnerships/${id}/settlements`, {});
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.skipped).toEqual([]);
    expect(body.data).toHaveLength(1);
    settlement = body.data[0];
    expect(settlement).toMatchObject({
      id: expect.stringMatching(/^stl_/), partnershipId: id, currency: 'USD', offset: 5_000, settledByWorkspaceId: b.ws,
      net: { owedByWorkspaceId: a.ws, owedToWorkspaceId: b.ws, amount: 7_000, payoutId: expect.stringMatching(/^pay_/) },
    });
    expect(settlement.net.payoutIds).toEqual([settlement.net.payoutId]);
    expect(Object.fromEntries(settlement.gross.map((g) => [g.owedByWorkspaceId, g.amount]))).toEqual({ [a.ws]: 12_000, [b.ws]: 5_000 });

    // One payout, in A's workspace only, pending, for the difference.
    const aPayouts = await payoutsOf(a);
    expect(aPayouts).toEqual([expect.objectContaining({ id: settlement.net.payoutId, amount: 7_000, status: 'pending', settlementId: settlement.id })]);
    expect(await payoutsOf(b)).toEqual([]);
  });

  it('settles the offset in both ledgers without cash; balances per partner follow', async () => {
    expect(await balanceOf(a, b)).toMatchObject({ pending: 0, payable: 7_000, paid: 5_000 });
    // The partnership balance nets what is still owed: A's 7,000, in the net payout.
    expect((await a.api('GET', `/api/v1/partnerships/${id}/balance`)).json().net).toMatchObject({ owedByWorkspaceId: a.ws, owedToWorkspaceId: b.ws, amount: 7_000 });
    expect(await balanceOf(b, a)).toMatchObject({ pending: 0, payable: 0, paid: 5_000 });
    for (const side of [a, b]) {
      const v = await verified(side);
      expect(v.ok, JSON.stringify(v.problems)).toBe(true);
      expect(await clearing(side)).toBe(-5_000);
    }
    const cash = await ctx.pool.query(`select count(*)::int as n from ledger_postings where workspace_id = any($1) and account like '%:cash'`, [[a.ws, b.ws]]);
    expect(cash.rows[0].n).toBe(0);
  });

  it('marks offset commissions paid (oldest first) and puts the split one in the net payout', async () => {
    const aCommissions = await commissionsOf(a);
    const older = aCommissions.find((c) => c.amount === 4_000)!;
    const split = aCommissions.find((c) => c.amount === 8_000)!;
    expect(older).toMatchObject({ status: 'paid', payoutId: null });
    expect(split).toMatchObject({ status: 'payable', payoutId: settlement.net.payoutId });
    expect(await commissionsOf(b)).toEqual([expect.objectContaining({ amount: 5_000, status: 'paid' })]);
    const offsets = await ctx.pool.query('select workspace_id, commission_id, amount::int from partnership_settlement_offsets where settlement_id = $1 order by workspace_id, amount', [settlement.id]);
    expect(offsets.rows.filter((r) => r.workspace_id === a.ws).map((r) => [r.commission_id, r.amount])).toEqual([[split.id, 1_000], [older.id, 4_000]]);
  });

  it('emits payout.created for the net payout and partnership.settled to both brands', async () => {
    expect(await outbox(a, 'payout.created')).toEqual([expect.objectContaining({ id: settlement.net.payoutId, amount: 7_000, settlementId: settlement.id })]);
    for (const side of [a, b]) expect(await outbox(side, 'partnership.settled')).toEqual([expect.objectContaining({ id: settlement.id, offset: 5_000, net: settlement.net })]);
    const audit = await ctx.pool.query(`select workspace_id, actor_kind from audit_log where action = 'partnership.settled' and target_id = $1 order by actor_kind`, [id]);
    expect(audit.rows).toEqual([{ workspace_id: b.ws, actor_kind: 'api_key' }, { workspace_id: a.ws, actor_kind: 'system' }]);
  });

  it('lists the settlement to both members, paginated', async () => {
    for (const side of [a, b]) {
      const list = (await side.api('GET', `/api/v1/partnerships/${id}/settlements`)).json();
      expect(list).toEqual({ data: [settlement], nextCursor: null });
    }
  });

  it('finds nothing to net a second time', async () => {
    const again = (await a.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json();
    expect(again).toEqual({ data: [], skipped: [{ counterpartyWorkspaceId: b.ws, reason: 'nothing_owed' }] });
  });

  it('a failed net payout returns 7,000 to payable, the offset stays settled, and the next batch pays exactly that', async () => {
    const failed = await a.api('POST', `/api/v1/payouts/${settlement.net.payoutId}/mark-failed`, { reason: 'Bank rejected' });
    expect(failed.statusCode).toBe(200);
    expect(await balanceOf(a, b)).toMatchObject({ payable: 7_000, paid: 5_000 });
    const batch = await a.api('POST', '/api/v1/payouts', { programId: a.programId, minAmount: 0 });
    expect(batch.json().payouts).toEqual([expect.objectContaining({ amount: 7_000 })]);
    const paid = await a.api('POST', `/api/v1/payouts/${batch.json().payouts[0].id}/mark-paid`, { reference: 'WIRE-7000' });
    expect(paid.statusCode).toBe(200);
    expect(await balanceOf(a, b)).toMatchObject({ payable: 0, paid: 12_000 });
    expect((await commissionsOf(a)).every((c) => c.status === 'paid')).toBe(true);
    // Everything earned either way is now paid or netted: the partnership balance owes nothing.
    const balance = (await b.api('GET', `/api/v1/partnerships/${id}/balance`)).json();
    expect(balance.net).toEqual({ owedByWorkspaceId: null, owedToWorkspaceId: null, amount: 0, currency: 'USD' });
    expect(balance.directions.map((d: { commissions: number; outstanding: number }) => [d.commissions, d.outstanding]).sort()).toEqual([[12_000, 0], [5_000, 0]].sort());
    expect((await verified(a)).ok).toBe(true);
  });

  it('claws back a refunded sale whose commission was settled by offset, like any paid commission', async () => {
    await owe(b, a, 900);
    const settled = (await a.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json().data[0];
    expect(settled).toMatchObject({ offset: 0, net: { owedByWorkspaceId: b.ws, amount: 900 } });
    await b.api('POST', `/api/v1/payouts/${settled.net.payoutId}/mark-paid`, { reference: 'WIRE-900' });
    const refund = await b.api('POST', '/api/v1/track/refund', { invoiceId: bOwesAInvoice });
    expect(refund.statusCode, refund.body).toBe(200);
    expect((await commissionsOf(b)).find((c) => c.kind === 'clawback')).toMatchObject({ amount: -5_000, status: 'payable' });
    expect(await balanceOf(b, a)).toMatchObject({ payable: -5_000, paid: 5_900 });
    expect((await verified(b)).ok).toBe(true);
  });

  it('pages through several settlements', async () => {
    await owe(a, b, 100);
    await b.api('POST', `/api/v1/partnerships/${id}/settlements`, {});
    const first = (await a.api('GET', `/api/v1/partnerships/${id}/settlements?limit=2`)).json();
    expect(first.data).toHaveLength(2);
    const second = (await a.api('GET', `/api/v1/partnerships/${id}/settlements?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second).toEqual({ data: [expect.objectContaining({ id: settlement.id })], nextCursor: null });
  });
});

describe('settlements and the rest of the engine', () => {
  it('replay recomputes both programs exactly, settlements, failed net payouts and clawbacks included', async () => {
    const a = await brand('Replay Alpha');
    const b = await brand('Replay Beta');
    const id = await partnership(a, b);
    await owe(a, b, 4_000, 30);
    const splitInvoice = await owe(a, b, 8_000, 10);
    await owe(b, a, 5_000, 20);
    const s = (await a.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json().data[0];
    expect(s).toMatchObject({ offset: 5_000, net: { amount: 7_000 } });
    for (const side of [a, b]) expect((await replayStoredProgram(ctx.pool, side.programId)).differences).toEqual([]);

    // The net payout fails: the split commission (1,000 of 8,000 settled) is payable again, and
    // being partly settled it is money on its way — a refund claws it back instead of reversing.
    expect((await a.api('POST', `/api/v1/payouts/${s.net.payoutId}/mark-failed`, { reason: 'Bank rejected' })).statusCode).toBe(200);
    const split = (await commissionsOf(a)).find((c) => c.amount === 8_000)!;
    await expect(withTransaction(ctx.pool, (client) => holdCommission(client, { workspaceId: a.ws, commissionId: split.id, reason: 'look closer' }))).rejects.toThrow(/partly settled by partnership netting/);
    const refund = await a.api('POST', '/api/v1/track/refund', { invoiceId: splitInvoice });
    expect(refund.statusCode, refund.body).toBe(200);
    expect((await commissionsOf(a)).find((c) => c.kind === 'clawback')).toMatchObject({ amount: -8_000, status: 'payable' });
    // 7,000 unpaid less the 8,000 clawed back: B's partner row owes 1,000 — what the offset already delivered.
    expect(await balanceOf(a, b)).toMatchObject({ payable: -1_000, paid: 5_000 });
    expect((await verified(a)).ok).toBe(true);
    for (const side of [a, b]) expect((await replayStoredProgram(ctx.pool, side.programId)).differences).toEqual([]);
  });
});

describe('edge cases', () => {
  it('equal amounts: both sides fully offset, no payout', async () => {
    const a = await brand('Even One');
    const b = await brand('Even Two');
    const id = await partnership(a, b);
    await owe(a, b, 3_000);
    await owe(b, a, 3_000);
    const s = (await a.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json().data[0];
    expect(s).toMatchObject({ offset: 3_000, net: { owedByWorkspaceId: null, owedToWorkspaceId: null, amount: 0, payoutId: null, payoutIds: [] } });
    expect(await payoutsOf(a)).toEqual([]);
    expect(await payoutsOf(b)).toEqual([]);
    expect(await balanceOf(a, b)).toMatchObject({ payable: 0, paid: 3_000 });
    expect(await balanceOf(b, a)).toMatchObject({ payable: 0, paid: 3_000 });
    for (const side of [a, b]) expect((await verified(side)).ok).toBe(true);
  });

  it('one side zero: a plain payout of the other side, nothing offset', async () => {
    const a = await brand('Lone Payer');
    const b = await brand('Lone Payee');
    const id = await partnership(a, b);
    await owe(a, b, 2_500);
    const s = (await b.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json().data[0];
    expect(s).toMatchObject({ offset: 0, net: { owedByWorkspaceId: a.ws, owedToWorkspaceId: b.ws, amount: 2_500 } });
    expect(await payoutsOf(a)).toEqual([expect.objectContaining({ amount: 2_500, status: 'pending', settlementId: s.id })]);
    expect(await balanceOf(a, b)).toMatchObject({ payable: 2_500, paid: 0 });
    expect(await clearing(a)).toBe(0);
  });

  it('leaves out a partner row of the brand whose clawbacks outweigh its commissions (as a payout batch does)', async () => {
    const a = await brand('Split Payer');
    const b = await brand('Split Payee');
    const id = await partnership(a, b);
    // A second partner row standing for B in A's program (say, enrolled by B's former owner), which
    // was paid 1,000 and then saw that sale refunded: a clawback of -1,000, payable.
    const second = await a.api('POST', `/api/v1/programs/${a.programId}/partners`, { email: 'former-owner@split.example', name: 'Split Payee (old)', status: 'approved' });
    expect(second.statusCode, second.body).toBe(201);
    await ctx.pool.query('update partners set partner_workspace_id = $3 where workspace_id = $1 and id = $2', [a.ws, second.json().partner.id, b.ws]);
    const sale = await a.api('POST', '/api/v1/track/sale', { customer: { externalId: 'split-1' }, amount: 10_000, currency: 'USD', invoiceId: 'split-inv-1', couponCode: second.json().enrollment.couponCode });
    expect(sale.statusCode, sale.body).toBe(200);
    await a.api('POST', '/api/v1/jobs/mature', { asOf: ctx.clock.now.toISOString() });
    const batch = await a.api('POST', '/api/v1/payouts', { programId: a.programId, minAmount: 0 });
    expect(batch.json().payouts).toEqual([expect.objectContaining({ amount: 1_000 })]);
    await a.api('POST', `/api/v1/payouts/${batch.json().payouts[0].id}/mark-paid`, { reference: 'WIRE-OLD' });
    expect((await a.api('POST', '/api/v1/track/refund', { invoiceId: 'split-inv-1' })).statusCode).toBe(200);
    // The row B is enrolled with today earns 2,500.
    await owe(a, b, 2_500);

    const s = (await b.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json().data[0];
    expect(s).toMatchObject({ offset: 0, net: { owedByWorkspaceId: a.ws, amount: 2_500 } });
    expect(s.gross.find((g: { owedByWorkspaceId: string }) => g.owedByWorkspaceId === a.ws).amount).toBe(2_500);
    const net = (await payoutsOf(a)).filter((p) => p.settlementId === s.id);
    expect(net).toEqual([expect.objectContaining({ id: s.net.payoutId, amount: 2_500 })]);
    // The clawback stays payable on its own row, for that row's later earnings.
    const clawback = (await commissionsOf(a)).find((c) => c.kind === 'clawback');
    expect(clawback).toMatchObject({ amount: -1_000, status: 'payable', payoutId: null });
    expect((await verified(a)).ok).toBe(true);
  });

  it('pays each of the brand\'s partner rows its own part of the difference and lists every payout', async () => {
    const a = await brand('Two Rows Payer');
    const b = await brand('Two Rows Payee');
    const id = await partnership(a, b);
    // B stands in A's program twice (its current owner, and a former owner's enrollment).
    const second = await a.api('POST', `/api/v1/programs/${a.programId}/partners`, { email: 'former-owner@tworows.example', name: 'Two Rows Payee (old)', status: 'approved' });
    expect(second.statusCode, second.body).toBe(201);
    await ctx.pool.query('update partners set partner_workspace_id = $3 where workspace_id = $1 and id = $2', [a.ws, second.json().partner.id, b.ws]);
    const sale = await a.api('POST', '/api/v1/track/sale', { customer: { externalId: 'two-rows-1' }, amount: 15_000, currency: 'USD', invoiceId: 'two-rows-inv-1', couponCode: second.json().enrollment.couponCode });
    expect(sale.statusCode, sale.body).toBe(200);
    await owe(a, b, 2_500);
    await owe(b, a, 1_000);

    const s = (await b.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json().data[0];
    // A owes 1,500 + 2,500 = 4,000; B owes 1,000: offset 1,000, net 3,000 from A, split across A's two rows.
    expect(s).toMatchObject({ offset: 1_000, net: { owedByWorkspaceId: a.ws, owedToWorkspaceId: b.ws, amount: 3_000 } });
    // The offset comes out of the oldest commission first (the former row's 1,500): that row is paid
    // its remaining 500, the current row its 2,500, in that order.
    const net = (await payoutsOf(a)).filter((p) => p.settlementId === s.id);
    const byId = new Map(net.map((p) => [p.id, p]));
    expect(s.net.payoutIds.map((payoutId: string) => [byId.get(payoutId)?.partnerId, byId.get(payoutId)?.amount])).toEqual([
      [second.json().partner.id, 500],
      [(await enrollmentOf(a, b)).partner.id, 2_500],
    ]);
    expect(net).toHaveLength(2);
    expect(s.net.payoutId).toBe(s.net.payoutIds[0]);
    // The listing and the event both carry every payout.
    const listed = (await a.api('GET', `/api/v1/partnerships/${id}/settlements`)).json().data.find((x: { id: string }) => x.id === s.id);
    expect(listed.net.payoutIds).toEqual(s.net.payoutIds);
    for (const side of [a, b]) {
      const events = (await outbox(side, 'partnership.settled')).filter((e: { id: string }) => e.id === s.id);
      expect(events).toEqual([expect.objectContaining({ net: expect.objectContaining({ payoutIds: s.net.payoutIds }) })]);
    }
    for (const side of [a, b]) expect((await verified(side)).ok).toBe(true);

    // Migration 0011 fills the list of a settlement made before it from the payouts' settlement id.
    await ctx.pool.query(`update partnership_settlements set net_payout_ids = '{}' where id = $1`, [s.id]);
    const migration = readFileSync(new URL('../../../drizzle/0011_settlement_payout_ids.sql', import.meta.url), 'utf8');
    await ctx.pool.query(migration.split('--> statement-breakpoint')[1]!);
    const filled = await ctx.pool.query<{ workspace_id: string; net_payout_ids: string[] }>('select workspace_id, net_payout_ids from partnership_settlements where id = $1 order by workspace_id', [s.id]);
    expect(filled.rows.map((r) => r.net_payout_ids)).toEqual([s.net.payoutIds, s.net.payoutIds]);
  });

  it('nothing owed either way: no settlement', async () => {
    const a = await brand('Quiet One');
    const b = await brand('Quiet Two');
    const id = await partnership(a, b);
    expect((await a.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json()).toEqual({ data: [], skipped: [{ counterpartyWorkspaceId: b.ws, reason: 'nothing_owed' }] });
    expect((await a.api('GET', `/api/v1/partnerships/${id}/settlements`)).json().data).toEqual([]);
  });

  it('nets per pair in a coalition and never across currencies', async () => {
    const a = await brand('Coal Alpha');
    const b = await brand('Coal Beta');
    const c = await brand('Coal Euro', 'EUR');
    const id = await partnership(a, b, c);
    await owe(a, b, 1_000);
    await owe(b, a, 400);
    const res = (await a.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json();
    expect(res.data).toEqual([expect.objectContaining({ offset: 400, net: expect.objectContaining({ owedByWorkspaceId: a.ws, amount: 600 }) })]);
    expect(res.skipped).toEqual([{ counterpartyWorkspaceId: c.ws, reason: 'currency_mismatch' }]);
    const euro = await a.api('POST', `/api/v1/partnerships/${id}/settlements`, { currency: 'EUR' });
    expect(euro.statusCode).toBe(422);
    expect(euro.json().error.details[0].path).toBe('currency');
    const fromC = (await c.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).json();
    expect(fromC.data).toEqual([]);
    expect(fromC.skipped.map((s: { reason: string }) => s.reason)).toEqual(['currency_mismatch', 'currency_mismatch']);
  });

  it('two concurrent settle calls: one settles, the other finds nothing', async () => {
    const a = await brand('Race Alpha');
    const b = await brand('Race Beta');
    const id = await partnership(a, b);
    await owe(a, b, 6_000);
    await owe(b, a, 2_000);
    const results = await Promise.all([a.api('POST', `/api/v1/partnerships/${id}/settlements`, {}), b.api('POST', `/api/v1/partnerships/${id}/settlements`, {})]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(results.map((r) => r.json().data.length).sort()).toEqual([0, 1]);
    expect(await payoutsOf(a)).toEqual([expect.objectContaining({ amount: 4_000 })]);
    expect(await balanceOf(a, b)).toMatchObject({ payable: 4_000, paid: 2_000 });
    expect(await balanceOf(b, a)).toMatchObject({ payable: 0, paid: 2_000 });
    for (const side of [a, b]) expect((await verified(side)).ok).toBe(true);
  });

  it('refuses outsiders (404), invited brands that have not joined (403) and bad input (422)', async () => {
    const a = await brand('Gate Alpha');
    const b = await brand('Gate Beta');
    const invited = await brand('Gate Invitee');
    const outsider = await brand('Gate Outsider');
    const id = await partnership(a, b);
    await owe(a, b, 1_000);
    expect((await a.api('POST', `/api/v1/partnerships/${id}/members`, { inviteWorkspaceSlug: invited.actor.workspaceSlug })).statusCode).toBe(201);
    expect((await outsider.api('POST', `/api/v1/partnerships/${id}/settlements`, {})).statusCode).toBe(404);
    expect((await outsider.api('GET', `/api/v1/partnerships/${id}/settlements`)).statusCode).toBe(404);
    const notJoined = await invited.api('POST', `/api/v1/partnerships/${id}/settlements`, {});
    expect(notJoined.statusCode).toBe(403);
    expect(notJoined.json().error.code).toBe('forbidden');
    for (const body of [{ currency: 'usd' }, { extra: true }, { counterpartyWorkspaceId: outsider.ws }]) {
      const res = await a.api('POST', `/api/v1/partnerships/${id}/settlements`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
    }
    expect((await a.api('GET', `/api/v1/partnerships/${id}/settlements?cursor=nonsense`)).statusCode).toBe(422);
    // Nothing was settled by any refused call.
    expect(await payoutsOf(a)).toEqual([]);
    const named = (await a.api('POST', `/api/v1/partnerships/${id}/settlements`, { counterpartyWorkspaceId: b.ws, currency: 'USD' })).json();
    expect(named.data).toEqual([expect.objectContaining({ net: expect.objectContaining({ amount: 1_000 }) })]);
  });
});
