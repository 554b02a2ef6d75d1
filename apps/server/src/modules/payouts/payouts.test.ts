import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, uniqueEmail, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

type Api = ReturnType<typeof asKey>;

/** A workspace with one payable 1500 commission per partner name, and a batch of their payouts. */
async function payoutsOf(names: string[]): Promise<{ api: Api; workspaceId: string; payouts: { id: string; partnerId: string }[] }> {
  const brand = await signupActor(ctx.app);
  const api = asKey(ctx.app, brand.apiKey);
  const programId = (await api('POST', '/api/v1/programs', { name: 'Payouts', currency: 'USD', destinationUrl: 'https://shop.example.com/', rules: { sale: { type: 'flat', amount: 1500 } } })).json().id;
  for (const [i, name] of names.entries()) {
    const couponCode = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(name), name })).json().enrollment.couponCode;
    expect((await api('POST', '/api/v1/track/sale', { customer: { externalId: `c-${i}` }, amount: 10_000, currency: 'USD', invoiceId: `INV-${i}`, couponCode })).statusCode).toBe(200);
  }
  await api('POST', '/api/v1/jobs/mature', { asOf: new Date(Date.now() + 60_000).toISOString() });
  const batch = await api('POST', '/api/v1/payouts', { programId, minAmount: 1 });
  expect(batch.statusCode, batch.body).toBe(201);
  return { api, workspaceId: brand.workspaceId, payouts: batch.json().payouts };
}

async function eventsOf(workspaceId: string, payoutId: string) {
  const { rows } = await ctx.pool.query<{ type: string; data: Record<string, unknown> }>(
    `select type, data from outbox_events where workspace_id = $1 and data->>'id' = $2 order by id`,
    [workspaceId, payoutId],
  );
  return rows;
}

async function ledgerEntries(workspaceId: string): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>('select count(*)::int as n from ledger_entries where workspace_id = $1', [workspaceId]);
  return rows[0]!.n;
}

describe('payout.failed event', () => {
  it('carries the failure reason, as the payout object does, and the contract documents it', async () => {
    const { api, workspaceId, payouts } = await payoutsOf(['Ann']);
    const failed = await api('POST', `/api/v1/payouts/${payouts[0]!.id}/mark-failed`, { reason: 'Bank rejected' });
    expect(failed.json()).toMatchObject({ status: 'failed', failureReason: 'Bank rejected' });
    const events = await eventsOf(workspaceId, payouts[0]!.id);
    expect(events.map((e) => e.type)).toEqual(['payout.created', 'payout.failed']);
    expect(events[1]!.data).toMatchObject({ status: 'failed', failureReason: 'Bank rejected' });
    // The other payout events have no failure (yet).
    expect(events[0]!.data).toMatchObject({ failureReason: null });

    const doc = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const data = doc.webhooks['payout.failed'].post.requestBody.content['application/json'].schema.properties.data;
    expect(data.properties.failureReason).toBeDefined();
  });
});

describe('mark-failed retried', () => {
  it('with the same reason answers 200 with the payout, and emits, logs and releases nothing again', async () => {
    const { api, workspaceId, payouts } = await payoutsOf(['Ann']);
    const id = payouts[0]!.id;
    const first = await api('POST', `/api/v1/payouts/${id}/mark-failed`, { reason: 'Bank rejected' });
    expect(first.statusCode).toBe(200);
    const rewardEvents = async () => (await ctx.pool.query(`select count(*)::int as n from reward_events where workspace_id = $1 and type = 'payout_failed'`, [workspaceId])).rows[0].n;
    const before = { events: await eventsOf(workspaceId, id), ledger: await ledgerEntries(workspaceId), rewardEvents: await rewardEvents() };

    // The body is trimmed as the first one was.
    const retry = await api('POST', `/api/v1/payouts/${id}/mark-failed`, { reason: ' Bank rejected ' });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json()).toEqual(first.json());
    expect(await eventsOf(workspaceId, id)).toEqual(before.events);
    expect(await ledgerEntries(workspaceId)).toBe(before.ledger);
    expect(await rewardEvents()).toBe(before.rewardEvents);
    expect(before.rewardEvents).toBe(1);
  });

  it('with another reason, on a paid payout, on an unknown payout or from another workspace is refused', async () => {
    const { api, workspaceId, payouts } = await payoutsOf(['Ann', 'Ben']);
    const failedOne = payouts[0]!;
    const paidOne = payouts[1]!;
    expect((await api('POST', `/api/v1/payouts/${failedOne.id}/mark-failed`, { reason: 'Bank rejected' })).statusCode).toBe(200);
    const other = await api('POST', `/api/v1/payouts/${failedOne.id}/mark-failed`, { reason: 'Account closed' });
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('conflict');

    expect((await api('POST', `/api/v1/payouts/${paidOne.id}/mark-paid`, { reference: 'WIRE-1' })).statusCode).toBe(200);
    expect((await api('POST', `/api/v1/payouts/${paidOne.id}/mark-failed`, { reason: 'Bank rejected' })).statusCode).toBe(409);

    expect((await api('POST', '/api/v1/payouts/pay_nope/mark-failed', { reason: 'Bank rejected' })).statusCode).toBe(404);
    expect((await api('POST', `/api/v1/payouts/${failedOne.id}/mark-failed`, {})).statusCode).toBe(422);

    // Another workspace cannot see it, retried or not.
    const stranger = asKey(ctx.app, (await signupActor(ctx.app)).apiKey);
    expect((await stranger('POST', `/api/v1/payouts/${failedOne.id}/mark-failed`, { reason: 'Bank rejected' })).statusCode).toBe(404);

    const payoutsNow = (await api('GET', '/api/v1/payouts')).json().data as { id: string; status: string; failureReason: string | null }[];
    expect(payoutsNow.find((p) => p.id === failedOne.id)).toMatchObject({ status: 'failed', failureReason: 'Bank rejected' });
    expect(payoutsNow.find((p) => p.id === paidOne.id)).toMatchObject({ status: 'paid', failureReason: null });
    expect((await eventsOf(workspaceId, failedOne.id)).map((e) => e.type)).toEqual(['payout.created', 'payout.failed']);
  });
});
