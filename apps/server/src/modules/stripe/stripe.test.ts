import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '@tandem/core';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { insertClick, insertPartner, insertProgram, type PartnerFixture, type ProgramFixture } from '../tracking/test-fixtures.js';
import { replayStoredProgram } from '../rewards/replay.js';
import { mapStripeEvent } from './map.js';
import { stripeSignatureHeader, verifyStripeSignature } from './signature.js';

const NOW = new Date('2026-06-15T12:00:00.000Z');
const nowSeconds = Math.floor(NOW.getTime() / 1000);
const SECRET = 'whsec_test_0123456789abcdefABCDEF';

let ctx: TestContext;
let brand: Actor;
let program: ProgramFixture;
let partner: PartnerFixture;
let seq = 0;

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
  program = await insertProgram(ctx.pool, brand.workspaceId);
  partner = await insertPartner(ctx.pool, program);
  const put = await asKey(ctx.app, brand.apiKey)('PUT', '/api/v1/integrations/stripe', { endpointSecret: SECRET });
  expect(put.statusCode).toBe(200);
});
afterAll(async () => ctx?.close());

function deliver(event: object, opts: { secret?: string; timestamp?: number; workspaceId?: string; header?: string | null } = {}) {
  const body = JSON.stringify(event);
  const header = opts.header === undefined ? stripeSignatureHeader(opts.secret ?? SECRET, opts.timestamp ?? nowSeconds, body) : opts.header;
  return ctx.app.inject({
    method: 'POST',
    url: `/api/v1/integrations/stripe/webhook?workspace=${opts.workspaceId ?? brand.workspaceId}`,
    headers: { 'content-type': 'application/json; charset=utf-8', ...(header !== null ? { 'stripe-signature': header } : {}) },
    payload: body,
  });
}

function checkoutEvent(over: Record<string, unknown> = {}) {
  seq += 1;
  return {
    id: `evt_checkout_${seq}`,
    type: 'checkout.session.completed',
    created: nowSeconds - 60,
    data: {
      object: {
        id: `cs_test_${seq}`,
        object: 'checkout.session',
        amount_total: 4900,
        currency: 'usd',
        payment_status: 'paid',
        payment_intent: `pi_${seq}`,
        invoice: null,
        customer: `cus_stripe_${seq}`,
        customer_details: { email: 'buyer@example.com', name: 'Buyer', address: { country: 'FR' } },
        client_reference_id: null,
        metadata: {},
        created: nowSeconds - 90,
        ...over,
      },
    },
  };
}

describe('Stripe signature', () => {
  const body = Buffer.from('{"id":"evt_1"}');
  const nowMs = NOW.getTime();

  it('accepts a valid signature, also when one of several v1 values matches (secret rolling)', () => {
    expect(verifyStripeSignature(stripeSignatureHeader(SECRET, nowSeconds, body), body, SECRET, nowMs)).toEqual({
      ok: true,
      timestamp: nowSeconds,
    });
    const rolled = `t=${nowSeconds},v1=${'0'.repeat(64)},${stripeSignatureHeader(SECRET, nowSeconds, body).split(',')[1]}`;
    expect(verifyStripeSignature(rolled, body, SECRET, nowMs).ok).toBe(true);
  });

  it('refuses a wrong secret, a tampered body, a missing or malformed header', () => {
    expect(verifyStripeSignature(stripeSignatureHeader('whsec_other', nowSeconds, body), body, SECRET, nowMs)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyStripeSignature(stripeSignatureHeader(SECRET, nowSeconds, body), Buffer.from('{"id":"evt_2"}'), SECRET, nowMs)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyStripeSignature(undefined, body, SECRET, nowMs)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyStripeSignature('t=abc,v1=xyz', body, SECRET, nowMs)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts a timestamp exactly 5 minutes old and refuses one a second older', () => {
    expect(verifyStripeSignature(stripeSignatureHeader(SECRET, nowSeconds - 300, body), body, SECRET, nowMs).ok).toBe(true);
    expect(verifyStripeSignature(stripeSignatureHeader(SECRET, nowSeconds - 301, body), body, SECRET, nowMs)).toEqual({
      ok: false,
      reason: 'stale',
    });
  });
});

describe('mapStripeEvent', () => {
  it('maps a paid checkout to a sale with click id from client_reference_id and uppercase currency', () => {
    const click = `clk_${'a'.repeat(32)}`;
    const intent = mapStripeEvent(checkoutEvent({ client_reference_id: click, metadata: { couponCode: 'SPRING' } }) as never);
    expect(intent).toMatchObject({
      kind: 'sale',
      amount: 4900,
      currency: 'USD',
      clickId: click,
      couponCode: 'SPRING',
      paymentRef: expect.stringMatching(/^pi_/),
      customer: { email: 'buyer@example.com', country: 'FR' },
    });
  });

  it('uses the invoice id of a subscription checkout, so the matching invoice.paid is the same sale', () => {
    const intent = mapStripeEvent(checkoutEvent({ invoice: 'in_123', mode: 'subscription' }) as never);
    expect(intent).toMatchObject({ kind: 'sale', invoiceId: 'in_123' });
  });

  it('ignores unpaid checkouts and unrelated event types, and reads an expanded promotion code', () => {
    expect(mapStripeEvent(checkoutEvent({ payment_status: 'unpaid' }) as never)).toEqual({ kind: 'ignored', why: 'unpaid' });
    expect(mapStripeEvent({ id: 'evt', type: 'customer.created', data: { object: {} } })).toEqual({ kind: 'ignored', why: 'event_type' });
    expect(mapStripeEvent(checkoutEvent({ discounts: [{ promotion_code: { id: 'promo_1', code: 'PARTNER10' } }] }) as never)).toMatchObject(
      { couponCode: 'PARTNER10' },
    );
  });

  it('maps a checkout with nothing to pay to a lead of its session, and a delayed payment that succeeded to a sale', () => {
    const click = `clk_${'c'.repeat(32)}`;
    const trial = checkoutEvent({ amount_total: 0, payment_status: 'no_payment_required', client_reference_id: click, mode: 'subscription' });
    expect(mapStripeEvent(trial as never)).toMatchObject({ kind: 'lead', eventName: `stripe_checkout:${trial.data.object.id}`, clickId: click, customer: { externalId: trial.data.object.customer } });
    const delayed = { ...checkoutEvent(), type: 'checkout.session.async_payment_succeeded' };
    expect(mapStripeEvent(delayed as never)).toMatchObject({ kind: 'sale', amount: 4900, invoiceId: delayed.data.object.payment_intent });
  });

  it('maps invoice.paid with subscription metadata, and skips zero-amount invoices', () => {
    const click = `clk_${'b'.repeat(32)}`;
    const paid = {
      id: 'evt_inv',
      type: 'invoice.paid',
      data: {
        object: {
          id: 'in_9',
          amount_paid: 1500,
          currency: 'eur',
          customer: 'cus_x',
          parent: { subscription_details: { metadata: { tdm_click: click } } },
          status_transitions: { paid_at: nowSeconds },
        },
      },
    };
    expect(mapStripeEvent(paid)).toMatchObject({
      kind: 'sale',
      invoiceId: 'in_9',
      amount: 1500,
      currency: 'EUR',
      clickId: click,
      customer: { externalId: 'cus_x' },
    });
    expect(mapStripeEvent({ ...paid, data: { object: { ...paid.data.object, amount_paid: 0 } } })).toEqual({
      kind: 'ignored',
      why: 'zero_amount',
    });
  });
});

describe('POST /api/v1/integrations/stripe/webhook', () => {
  it('turns a validly signed checkout into an attributed sale', async () => {
    const clickId = await insertClick(ctx.pool, program, partner, new Date(NOW.getTime() - DAY_MS));
    const event = checkoutEvent({ client_reference_id: clickId });
    const res = await deliver(event);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true, outcome: 'sale', targetId: expect.stringMatching(/^sal_/) });
    const { rows } = await ctx.pool.query('select amount, currency, partner_id, source, payment_ref from sales where id = $1', [
      res.json().targetId,
    ]);
    expect(rows).toEqual([
      { amount: 4900, currency: 'USD', partner_id: partner.partnerId, source: 'stripe', payment_ref: event.data.object.payment_intent },
    ]);
  });

  it('refuses an invalid signature with 400 and records nothing', async () => {
    const event = checkoutEvent();
    const res = await deliver(event, { secret: 'whsec_wrong_secret_value' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([{ path: 'Stripe-Signature', message: 'mismatch' }]);
    expect((await deliver(event, { header: null })).statusCode).toBe(400);
    const { rowCount } = await ctx.pool.query('select 1 from stripe_events where event_id = $1', [event.id]);
    expect(rowCount).toBe(0);
  });

  it('refuses a stale signature (older than 5 minutes) with 400', async () => {
    const res = await deliver(checkoutEvent(), { timestamp: nowSeconds - 301 });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].message).toBe('stale');
  });

  it('acknowledges a replayed event without a second sale', async () => {
    const event = checkoutEvent({ metadata: { couponCode: partner.couponCode } });
    const first = await deliver(event);
    const replay = await deliver(event);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ received: true, outcome: 'duplicate', targetId: first.json().targetId });
    const { rows } = await ctx.pool.query('select count(*)::int as n from sales where invoice_id = $1', [event.data.object.payment_intent]);
    expect(rows[0].n).toBe(1);
  });

  it('records one sale when the same event races in parallel', async () => {
    const event = checkoutEvent();
    const results = await Promise.all(Array.from({ length: 6 }, () => deliver(event)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(6).fill(200));
    expect(results.filter((r) => r.json().outcome === 'sale')).toHaveLength(1);
    const { rows } = await ctx.pool.query('select count(*)::int as n from sales where invoice_id = $1', [event.data.object.payment_intent]);
    expect(rows[0].n).toBe(1);
  });

  it('treats invoice.paid for an invoice already recorded by its checkout as the same sale', async () => {
    const checkout = checkoutEvent({ invoice: `in_sub_${seq}` });
    const sale = (await deliver(checkout)).json().targetId;
    const invoicePaid = {
      id: `evt_inv_${seq}`,
      type: 'invoice.paid',
      created: nowSeconds,
      data: { object: { id: checkout.data.object.invoice, amount_paid: 4900, currency: 'usd', customer: 'cus_x' } },
    };
    expect((await deliver(invoicePaid)).json()).toEqual({ received: true, outcome: 'duplicate_sale', targetId: sale });
  });

  it('a trial checkout attributes its customer without a sale; the invoice paid after the trial is an attributed sale', async () => {
    const clickId = await insertClick(ctx.pool, program, partner, new Date(NOW.getTime() - DAY_MS));
    const trial = checkoutEvent({ amount_total: 0, payment_status: 'no_payment_required', client_reference_id: clickId, mode: 'subscription', invoice: null, payment_intent: null });
    const res = await deliver(trial);
    expect(res.json()).toEqual({ received: true, outcome: 'lead', targetId: expect.stringMatching(/^led_/) });
    expect((await deliver(trial)).json()).toMatchObject({ outcome: 'duplicate' });
    const customer = trial.data.object.customer;
    const { rows: sales } = await ctx.pool.query('select count(*)::int as n from sales s join customers c on c.workspace_id = s.workspace_id and c.id = s.customer_id where c.external_id = $1', [customer]);
    expect(sales[0].n).toBe(0);
    const invoicePaid = {
      id: `evt_inv_trial_${seq}`,
      type: 'invoice.paid',
      created: nowSeconds,
      data: { object: { id: `in_after_trial_${seq}`, amount_paid: 4900, currency: 'usd', customer, status_transitions: { paid_at: nowSeconds } } },
    };
    const sale = (await deliver(invoicePaid)).json();
    expect(sale).toMatchObject({ outcome: 'sale' });
    const { rows } = await ctx.pool.query('select partner_id, attributed_via from sales where id = $1', [sale.targetId]);
    expect(rows).toEqual([{ partner_id: partner.partnerId, attributed_via: 'click' }]);
  });

  it("an invoice.paid that arrives before its checkout stays as recorded, but the checkout's click attributes the customer's renewals", async () => {
    const clickId = await insertClick(ctx.pool, program, partner, new Date(NOW.getTime() - DAY_MS));
    const checkout = checkoutEvent({ invoice: `in_early_${seq}`, client_reference_id: clickId, mode: 'subscription' });
    const customer = checkout.data.object.customer;
    const early = { id: `evt_early_${seq}`, type: 'invoice.paid', created: nowSeconds, data: { object: { id: checkout.data.object.invoice, amount_paid: 4900, currency: 'usd', customer } } };
    const first = (await deliver(early)).json();
    expect(first).toMatchObject({ outcome: 'sale' });
    expect((await deliver(checkout)).json()).toEqual({ received: true, outcome: 'duplicate_sale', targetId: first.targetId });
    const renewal = { id: `evt_renew_${seq}`, type: 'invoice.paid', created: nowSeconds, data: { object: { id: `in_renew_${seq}`, amount_paid: 4900, currency: 'usd', customer } } };
    const next = (await deliver(renewal)).json();
    const { rows } = await ctx.pool.query('select id, partner_id from sales where id = any($1) order by invoice_id', [[first.targetId, next.targetId]]);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.partner_id]))).toEqual({ [first.targetId]: null, [next.targetId]: partner.partnerId });
  });

  it('a lead reward is paid for a trial checkout, never for the lead a late checkout records for its attribution', async () => {
    const leadProgram = await insertProgram(ctx.pool, brand.workspaceId, { rules: { lead: { type: 'flat', amount: 500 }, sale: { type: 'percentage', amount: 10 } } });
    const leadPartner = await insertPartner(ctx.pool, leadProgram);
    const leadCommissions = async () =>
      (await ctx.pool.query(`select count(*)::int as n from commissions where workspace_id = $1 and partner_id = $2 and kind = 'lead'`, [brand.workspaceId, leadPartner.partnerId])).rows[0].n;
    const trial = checkoutEvent({ amount_total: 0, payment_status: 'no_payment_required', client_reference_id: await insertClick(ctx.pool, leadProgram, leadPartner, new Date(NOW.getTime() - DAY_MS)), invoice: null, payment_intent: null });
    expect((await deliver(trial)).json()).toMatchObject({ outcome: 'lead' });
    expect(await leadCommissions()).toBe(1);
    const checkout = checkoutEvent({ invoice: `in_late_${seq}`, client_reference_id: await insertClick(ctx.pool, leadProgram, leadPartner, new Date(NOW.getTime() - DAY_MS)), mode: 'subscription' });
    const early = { id: `evt_late_inv_${seq}`, type: 'invoice.paid', created: nowSeconds, data: { object: { id: checkout.data.object.invoice, amount_paid: 4900, currency: 'usd', customer: checkout.data.object.customer } } };
    expect((await deliver(early)).json()).toMatchObject({ outcome: 'sale' });
    expect((await deliver(checkout)).json()).toMatchObject({ outcome: 'duplicate_sale' });
    expect(await leadCommissions()).toBe(1);
  });

  it('applies charge.refunded as the new part of the cumulative refunded amount, never beyond the sale', async () => {
    const checkout = checkoutEvent({ amount_total: 10_000 });
    const saleId = (await deliver(checkout)).json().targetId;
    const charge = (amountRefunded: number, n: number) => ({
      id: `evt_refund_${seq}_${n}`,
      type: 'charge.refunded',
      created: nowSeconds,
      data: { object: { id: `ch_${seq}`, payment_intent: checkout.data.object.payment_intent, amount_refunded: amountRefunded } },
    });
    const partial = await deliver(charge(2500, 1));
    expect(partial.json()).toEqual({ received: true, outcome: 'refund', targetId: expect.stringMatching(/^ref_/) });
    expect((await deliver(charge(2500, 2))).json().outcome).toBe('ignored:nothing_new');
    expect((await deliver(charge(99_999, 3))).json().outcome).toBe('refund');
    const { rows } = await ctx.pool.query('select refunded_amount from sales where id = $1', [saleId]);
    expect(rows[0].refunded_amount).toBe(10_000);
  });

  it('acknowledges a refund of a payment Tandem has not seen (kept for its sale), and ignores unrelated events', async () => {
    const unknown = {
      id: `evt_unknown_${++seq}`,
      type: 'charge.refunded',
      created: nowSeconds,
      data: { object: { id: 'ch_x', payment_intent: 'pi_never_seen', amount_refunded: 100 } },
    };
    expect((await deliver(unknown)).json()).toEqual({ received: true, outcome: 'refund_pending', targetId: null });
    expect((await deliver({ id: `evt_other_${++seq}`, type: 'customer.created', data: { object: {} } })).json().outcome).toBe(
      'ignored:event_type',
    );
  });

  it('refuses a signed body that is not a Stripe event with 400, and a body over 1 MiB with 413', async () => {
    const notAnEvent = { hello: 'world' };
    const res = await deliver(notAnEvent);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toBe('Not a Stripe event');
    const huge = await deliver({ id: 'evt_huge', type: 'x', data: { object: { blob: 'x'.repeat(1024 * 1024) } } });
    expect(huge.statusCode).toBe(413);
  });

  it("answers 404 for a workspace without Stripe, and never accepts one workspace's secret for another", async () => {
    const other = await signupActor(ctx.app);
    const res = await deliver(checkoutEvent(), { workspaceId: other.workspaceId });
    expect(res.statusCode).toBe(404);
    await asKey(ctx.app, other.apiKey)('PUT', '/api/v1/integrations/stripe', { endpointSecret: 'whsec_other_workspace_secret' });
    expect((await deliver(checkoutEvent(), { workspaceId: other.workspaceId })).statusCode).toBe(400);
  });
});

describe('charge.refunded before its sale (Stripe does not order events)', () => {
  let rewarded: ProgramFixture;
  let earner: PartnerFixture;
  beforeAll(async () => {
    rewarded = await insertProgram(ctx.pool, brand.workspaceId, { rules: { sale: { type: 'percentage', amount: 10 } } });
    earner = await insertPartner(ctx.pool, rewarded);
  });

  const refunded = (ref: Record<string, unknown>, amountRefunded: number, chargeId = `ch_early_${++seq}`) => ({
    id: `evt_early_refund_${++seq}`,
    type: 'charge.refunded',
    created: nowSeconds - 30,
    data: { object: { id: chargeId, amount_refunded: amountRefunded, ...ref } },
  });
  const saleOf = async (saleId: string) =>
    (await ctx.pool.query('select amount, refunded_amount from sales where workspace_id = $1 and id = $2', [brand.workspaceId, saleId])).rows[0];
  const refundsOf = async (saleId: string) =>
    (await ctx.pool.query('select amount, external_ref from refunds where workspace_id = $1 and sale_id = $2 order by amount', [brand.workspaceId, saleId])).rows;
  const commissionOf = async (saleId: string) =>
    (await ctx.pool.query('select amount, reversed_amount, status from commissions where workspace_id = $1 and sale_id = $2', [brand.workspaceId, saleId])).rows;
  const waiting = async (eventId: string) =>
    (await ctx.pool.query('select count(*)::int as n from stripe_pending_refunds where workspace_id = $1 and event_id = $2', [brand.workspaceId, eventId])).rows[0].n;

  it('keeps a full refund that came first and applies it when the checkout arrives: the commission is reversed', async () => {
    const checkout = checkoutEvent({ amount_total: 10_000, metadata: { couponCode: earner.couponCode } });
    const refund = refunded({ payment_intent: checkout.data.object.payment_intent }, 10_000);
    expect((await deliver(refund)).json()).toEqual({ received: true, outcome: 'refund_pending', targetId: null });
    expect(await waiting(refund.id)).toBe(1);

    const sale = (await deliver(checkout)).json();
    expect(sale).toEqual({ received: true, outcome: 'sale', targetId: expect.stringMatching(/^sal_/) });
    expect(await saleOf(sale.targetId)).toEqual({ amount: 10_000, refunded_amount: 10_000 });
    expect(await refundsOf(sale.targetId)).toEqual([{ amount: 10_000, external_ref: refund.data.object.id }]);
    expect(await commissionOf(sale.targetId)).toEqual([{ amount: 1000, reversed_amount: 1000, status: 'reversed' }]);
    expect(await waiting(refund.id)).toBe(0);
    // The refund event now records what it became; a redelivery of either event changes nothing.
    const { rows } = await ctx.pool.query('select outcome, target_id from stripe_events where workspace_id = $1 and event_id = $2', [brand.workspaceId, refund.id]);
    expect(rows).toEqual([{ outcome: 'refund', target_id: expect.stringMatching(/^ref_/) }]);
    expect((await deliver(refund)).json()).toMatchObject({ outcome: 'duplicate' });
    expect((await deliver(checkout)).json()).toMatchObject({ outcome: 'duplicate' });
    expect(await refundsOf(sale.targetId)).toHaveLength(1);
    expect((await replayStoredProgram(ctx.pool, rewarded.programId)).differences).toEqual([]);
  });

  it('applies early partial refunds (cumulative, delivered out of order) once each, never beyond the sale', async () => {
    const checkout = checkoutEvent({ amount_total: 10_000, metadata: { couponCode: earner.couponCode } });
    const ref = { payment_intent: checkout.data.object.payment_intent };
    const chargeId = `ch_partial_${seq}`;
    const second = refunded(ref, 6000, chargeId);
    const first = refunded(ref, 2500, chargeId);
    expect((await deliver(second)).json().outcome).toBe('refund_pending');
    expect((await deliver(first)).json().outcome).toBe('refund_pending');
    const saleId = (await deliver(checkout)).json().targetId;
    expect(await saleOf(saleId)).toEqual({ amount: 10_000, refunded_amount: 6000 });
    expect((await refundsOf(saleId)).map((r) => r.amount)).toEqual([2500, 3500]);
    expect(await commissionOf(saleId)).toEqual([{ amount: 1000, reversed_amount: 600, status: 'pending' }]);

    // One more, past the sale's amount, arriving after the sale: capped as a normal refund is.
    expect((await deliver(refunded(ref, 99_999, chargeId))).json().outcome).toBe('refund');
    expect(await saleOf(saleId)).toEqual({ amount: 10_000, refunded_amount: 10_000 });
    expect((await replayStoredProgram(ctx.pool, rewarded.programId)).differences).toEqual([]);
  });

  it('an early refund that adds nothing to the refunds already applied is recorded as nothing new', async () => {
    const checkout = checkoutEvent({ amount_total: 4000 });
    const ref = { payment_intent: checkout.data.object.payment_intent };
    const chargeId = `ch_nothing_${seq}`;
    // Two events reporting the same cumulative amount: the second has nothing new to refund.
    const events = [refunded(ref, 4000, chargeId), refunded(ref, 4000, chargeId)];
    for (const e of events) await deliver(e);
    const saleId = (await deliver(checkout)).json().targetId;
    expect(await saleOf(saleId)).toEqual({ amount: 4000, refunded_amount: 4000 });
    expect(await refundsOf(saleId)).toHaveLength(1);
    const { rows } = await ctx.pool.query('select outcome, target_id from stripe_events where workspace_id = $1 and event_id = any($2) order by outcome', [brand.workspaceId, events.map((e) => e.id)]);
    expect(rows).toEqual([{ outcome: 'ignored:nothing_new', target_id: saleId }, { outcome: 'refund', target_id: expect.stringMatching(/^ref_/) }]);
  });

  it('matches an early refund to a sale by its invoice (invoice.paid), and by the payment intent a checkout stored', async () => {
    const invoiceId = `in_early_refund_${++seq}`;
    const byInvoice = refunded({ invoice: invoiceId }, 1500);
    await deliver(byInvoice);
    const paid = { id: `evt_inv_${seq}`, type: 'invoice.paid', created: nowSeconds, data: { object: { id: invoiceId, amount_paid: 4900, currency: 'usd', customer: `cus_inv_${seq}` } } };
    const saleId = (await deliver(paid)).json().targetId;
    expect(await saleOf(saleId)).toEqual({ amount: 4900, refunded_amount: 1500 });

    // A subscription checkout is stored under its invoice with the payment intent as the second reference.
    const checkout = checkoutEvent({ invoice: `in_sub_early_${seq}` });
    await deliver(refunded({ payment_intent: checkout.data.object.payment_intent }, 900));
    const subSale = (await deliver(checkout)).json().targetId;
    expect(await saleOf(subSale)).toEqual({ amount: 4900, refunded_amount: 900 });
  });

  it('a sale that arrives as the second event of its payment (invoice.paid after the checkout) applies the refund too', async () => {
    // The checkout's sale committed but the refund was not applied (the process stopped between the two).
    const checkout = checkoutEvent({ invoice: `in_pair_${++seq}` });
    const ref = { payment_intent: checkout.data.object.payment_intent };
    const refund = refunded(ref, 4900);
    await deliver(refund);
    await ctx.pool.query('alter table stripe_pending_refunds rename to stripe_pending_refunds_away');
    let saleId: string;
    try {
      const res = await deliver(checkout);
      expect(res.statusCode).toBe(500);
      saleId = (await ctx.pool.query('select id from sales where workspace_id = $1 and invoice_id = $2', [brand.workspaceId, checkout.data.object.invoice])).rows[0].id;
    } finally {
      await ctx.pool.query('alter table stripe_pending_refunds_away rename to stripe_pending_refunds');
    }
    expect(await saleOf(saleId)).toEqual({ amount: 4900, refunded_amount: 0 });
    const paid = { id: `evt_pair_${seq}`, type: 'invoice.paid', created: nowSeconds, data: { object: { id: checkout.data.object.invoice, amount_paid: 4900, currency: 'usd', customer: 'cus_x' } } };
    expect((await deliver(paid)).json()).toEqual({ received: true, outcome: 'duplicate_sale', targetId: saleId });
    expect(await saleOf(saleId)).toEqual({ amount: 4900, refunded_amount: 4900 });
  });

  it("Stripe's retry of a sale whose refunds were not applied before the answer applies them", async () => {
    const checkout = checkoutEvent();
    const refund = refunded({ payment_intent: checkout.data.object.payment_intent }, 4900);
    await deliver(refund);
    await ctx.pool.query('alter table stripe_pending_refunds rename to stripe_pending_refunds_away');
    try {
      expect((await deliver(checkout)).statusCode).toBe(500);
    } finally {
      await ctx.pool.query('alter table stripe_pending_refunds_away rename to stripe_pending_refunds');
    }
    const retry = (await deliver(checkout)).json();
    expect(retry).toEqual({ received: true, outcome: 'duplicate', targetId: expect.stringMatching(/^sal_/) });
    expect(await saleOf(retry.targetId)).toEqual({ amount: 4900, refunded_amount: 4900 });
    expect(await waiting(refund.id)).toBe(0);
  });

  it('a refund and its sale delivered at the same time: the refund is applied exactly once', async () => {
    const pairs = Array.from({ length: 8 }, () => {
      const checkout = checkoutEvent({ amount_total: 3000 });
      return { checkout, refund: refunded({ payment_intent: checkout.data.object.payment_intent }, 3000) };
    });
    await Promise.all(pairs.flatMap(({ checkout, refund }) => [deliver(checkout), deliver(refund)]));
    for (const { checkout } of pairs) {
      const { rows } = await ctx.pool.query('select amount, refunded_amount from sales where workspace_id = $1 and invoice_id = $2', [brand.workspaceId, checkout.data.object.payment_intent]);
      expect(rows).toEqual([{ amount: 3000, refunded_amount: 3000 }]);
    }
  });

  it('a refund that found no sale but commits after the sale looked for waiting refunds is applied all the same', async () => {
    const checkout = checkoutEvent();
    const refund = refunded({ payment_intent: checkout.data.object.payment_intent }, 4900);
    // An uncommitted row under the refund's key holds the refund's transaction after it found no sale.
    const blocker = await ctx.pool.connect();
    let refundDelivery: ReturnType<typeof deliver> | undefined;
    try {
      await blocker.query('begin');
      await blocker.query(`insert into stripe_pending_refunds (workspace_id, event_id, charge_id, refs, amount_refunded, occurred_at) values ($1, $2, 'ch_blocker', '{}', 0, now())`, [brand.workspaceId, refund.id]);
      refundDelivery = deliver(refund);
      await expect.poll(async () => (await ctx.pool.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows[0].n).toBe(1);
      // The sale commits and finds no refund waiting: the refund's row is not committed yet.
      expect((await deliver(checkout)).json().outcome).toBe('sale');
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    const answer = (await refundDelivery!).json();
    expect(answer).toEqual({ received: true, outcome: 'refund', targetId: expect.stringMatching(/^ref_/) });
    const { rows } = await ctx.pool.query('select refunded_amount from sales where workspace_id = $1 and invoice_id = $2', [brand.workspaceId, checkout.data.object.payment_intent]);
    expect(rows).toEqual([{ refunded_amount: 4900 }]);
    expect(await waiting(refund.id)).toBe(0);
  });

  it("never applies one workspace's early refund to another workspace's sale", async () => {
    const other = await signupActor(ctx.app);
    const otherSecret = 'whsec_other_tenant_0123456789';
    await asKey(ctx.app, other.apiKey)('PUT', '/api/v1/integrations/stripe', { endpointSecret: otherSecret });
    const checkout = checkoutEvent();
    const refund = refunded({ payment_intent: checkout.data.object.payment_intent }, 4900);
    expect((await deliver(refund)).json().outcome).toBe('refund_pending');
    const sale = (await deliver(checkout, { workspaceId: other.workspaceId, secret: otherSecret })).json();
    expect(sale.outcome).toBe('sale');
    const { rows } = await ctx.pool.query('select refunded_amount from sales where workspace_id = $1 and id = $2', [other.workspaceId, sale.targetId]);
    expect(rows).toEqual([{ refunded_amount: 0 }]);
    expect(await waiting(refund.id)).toBe(1);
  });
});

describe('charge.refunded before a sale the brand records itself (tracking API, conversions import)', () => {
  let rewarded: ProgramFixture;
  let earner: PartnerFixture;
  let api: ReturnType<typeof asKey>;
  beforeAll(async () => {
    rewarded = await insertProgram(ctx.pool, brand.workspaceId, { rules: { sale: { type: 'percentage', amount: 10 } } });
    earner = await insertPartner(ctx.pool, rewarded);
    api = asKey(ctx.app, brand.apiKey);
  });
  // A charge of an invoice the brand's own billing made: Stripe knows the brand's invoice id from its metadata.
  const refundOfInvoice = (invoiceId: string, amountRefunded: number) => ({
    id: `evt_api_refund_${++seq}`,
    type: 'charge.refunded',
    created: nowSeconds - 30,
    data: { object: { id: `ch_api_${seq}`, amount_refunded: amountRefunded, payment_intent: `pi_api_${seq}`, metadata: { invoiceId } } },
  });
  const saleBy = async (workspaceId: string, invoiceId: string) =>
    (await ctx.pool.query('select amount, refunded_amount from sales where workspace_id = $1 and invoice_id = $2', [workspaceId, invoiceId])).rows[0];
  const eventOutcome = async (eventId: string) =>
    (await ctx.pool.query('select outcome from stripe_events where workspace_id = $1 and event_id = $2', [brand.workspaceId, eventId])).rows[0]?.outcome;
  const waiting = async (eventId: string) =>
    (await ctx.pool.query('select count(*)::int as n from stripe_pending_refunds where workspace_id = $1 and event_id = $2', [brand.workspaceId, eventId])).rows[0].n;

  it('a sale recorded with POST /api/v1/track/sale under the invoice id the refund carries takes the refund, and its commission is reversed', async () => {
    const refund = refundOfInvoice('BRAND-INV-1', 4000);
    expect((await deliver(refund)).json().outcome).toBe('refund_pending');
    const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'api-buyer-1' }, amount: 10_000, currency: 'USD', invoiceId: 'BRAND-INV-1', couponCode: earner.couponCode });
    expect(res.statusCode, res.body).toBe(200);
    expect(await saleBy(brand.workspaceId, 'BRAND-INV-1')).toEqual({ amount: 10_000, refunded_amount: 4000 });
    const { rows } = await ctx.pool.query('select amount, reversed_amount from commissions where workspace_id = $1 and sale_id = $2', [brand.workspaceId, res.json().sale.id]);
    expect(rows).toEqual([{ amount: 1000, reversed_amount: 400 }]);
    expect(await eventOutcome(refund.id)).toBe('refund');
    expect(await waiting(refund.id)).toBe(0);
    // A repeat of the sale is answered from the stored body and refunds nothing again.
    expect((await api('POST', '/api/v1/track/sale', { customer: { externalId: 'api-buyer-1' }, amount: 10_000, currency: 'USD', invoiceId: 'BRAND-INV-1', couponCode: earner.couponCode })).statusCode).toBe(200);
    expect(await saleBy(brand.workspaceId, 'BRAND-INV-1')).toEqual({ amount: 10_000, refunded_amount: 4000 });
    expect((await replayStoredProgram(ctx.pool, rewarded.programId)).differences).toEqual([]);
  });

  it('a sale of a conversions import takes the refund waiting for its invoice', async () => {
    const refund = refundOfInvoice('BRAND-INV-2', 10_000);
    expect((await deliver(refund)).json().outcome).toBe('refund_pending');
    const csv = ['type,externalId,amount,currency,invoiceId', 'sale,import-buyer-2,10000,USD,BRAND-INV-2', ''].join('\n');
    const upload = await ctx.app.inject({ method: 'POST', url: '/api/v1/conversions/import', headers: { authorization: `Bearer ${brand.apiKey}`, 'content-type': 'text/csv' }, payload: csv });
    expect(upload.statusCode, upload.body).toBeLessThan(300);
    await ctx.services.queue.drain();
    expect(await saleBy(brand.workspaceId, 'BRAND-INV-2')).toEqual({ amount: 10_000, refunded_amount: 10_000 });
    expect(await eventOutcome(refund.id)).toBe('refund');
  });

  it('a repeat of the sale applies a refund its first recording left waiting (it stopped after its commit)', async () => {
    const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'api-buyer-3' }, amount: 5000, currency: 'USD', invoiceId: 'BRAND-INV-3' });
    expect(res.statusCode).toBe(200);
    // As if the refund had been kept between the sale's commit and its look (a crash in between).
    await ctx.pool.query(`insert into stripe_events (workspace_id, event_id, type, outcome) values ($1, 'evt_left_waiting', 'charge.refunded', 'refund_pending')`, [brand.workspaceId]);
    await ctx.pool.query(
      `insert into stripe_pending_refunds (workspace_id, event_id, charge_id, refs, amount_refunded, occurred_at) values ($1, 'evt_left_waiting', 'ch_left', '{BRAND-INV-3}', 1000, $2)`,
      [brand.workspaceId, NOW],
    );
    expect((await api('POST', '/api/v1/track/sale', { customer: { externalId: 'api-buyer-3' }, amount: 5000, currency: 'USD', invoiceId: 'BRAND-INV-3' })).statusCode).toBe(200);
    expect(await saleBy(brand.workspaceId, 'BRAND-INV-3')).toEqual({ amount: 5000, refunded_amount: 1000 });
    expect(await eventOutcome('evt_left_waiting')).toBe('refund');
  });

  it("never applies a refund of a charge in another currency than the sale's, whether it came before or after the sale", async () => {
    // The brand charged in GBP and records the sale in USD under the same invoice id: the pence refunded are not cents of the sale.
    const early = { ...refundOfInvoice('BRAND-INV-FX-1', 4000) };
    early.data.object = { ...early.data.object, currency: 'gbp' } as typeof early.data.object;
    expect((await deliver(early)).json().outcome).toBe('refund_pending');
    const sale = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'api-buyer-fx' }, amount: 10_000, currency: 'USD', invoiceId: 'BRAND-INV-FX-1', couponCode: earner.couponCode });
    expect(sale.statusCode, sale.body).toBe(200);
    expect(await saleBy(brand.workspaceId, 'BRAND-INV-FX-1')).toEqual({ amount: 10_000, refunded_amount: 0 });
    expect(await eventOutcome(early.id)).toBe('ignored:currency_mismatch');
    expect(await waiting(early.id)).toBe(0);

    expect((await api('POST', '/api/v1/track/sale', { customer: { externalId: 'api-buyer-fx' }, amount: 8000, currency: 'USD', invoiceId: 'BRAND-INV-FX-2' })).statusCode).toBe(200);
    const late = { ...refundOfInvoice('BRAND-INV-FX-2', 8000) };
    late.data.object = { ...late.data.object, currency: 'eur' } as typeof late.data.object;
    expect((await deliver(late)).json().outcome).toBe('ignored:currency_mismatch');
    expect(await saleBy(brand.workspaceId, 'BRAND-INV-FX-2')).toEqual({ amount: 8000, refunded_amount: 0 });
    // The same currency (Stripe writes it in lower case) is applied.
    const same = { ...refundOfInvoice('BRAND-INV-FX-2', 3000) };
    same.data.object = { ...same.data.object, currency: 'usd' } as typeof same.data.object;
    expect((await deliver(same)).json().outcome).toBe('refund');
    expect(await saleBy(brand.workspaceId, 'BRAND-INV-FX-2')).toEqual({ amount: 8000, refunded_amount: 3000 });
    expect((await replayStoredProgram(ctx.pool, rewarded.programId)).differences).toEqual([]);
  });

  it("never applies one workspace's waiting refund to another workspace's sale of the same invoice id, Stripe or not", async () => {
    const refund = refundOfInvoice('BRAND-INV-4', 2000);
    expect((await deliver(refund)).json().outcome).toBe('refund_pending');
    const withStripe = await signupActor(ctx.app);
    await asKey(ctx.app, withStripe.apiKey)('PUT', '/api/v1/integrations/stripe', { endpointSecret: 'whsec_other_tenant_api_0123456789' });
    const withoutStripe = await signupActor(ctx.app);
    for (const other of [withStripe, withoutStripe]) {
      const res = await asKey(ctx.app, other.apiKey)('POST', '/api/v1/track/sale', { customer: { externalId: 'api-buyer-4' }, amount: 5000, currency: 'USD', invoiceId: 'BRAND-INV-4' });
      expect(res.statusCode).toBe(200);
      expect(await saleBy(other.workspaceId, 'BRAND-INV-4')).toEqual({ amount: 5000, refunded_amount: 0 });
    }
    expect(await waiting(refund.id)).toBe(1);
    expect(await eventOutcome(refund.id)).toBe('refund_pending');
  });
});

describe('Stripe settings', () => {
  it('shows the webhook URL without revealing the secret, needs admin, and validates the secret', async () => {
    const api = asKey(ctx.app, brand.apiKey);
    const res = await api('GET', '/api/v1/integrations/stripe');
    expect(res.json()).toEqual({
      configured: true,
      webhookUrl: `http://tandem.test/api/v1/integrations/stripe/webhook?workspace=${brand.workspaceId}`,
      updatedAt: NOW.toISOString(),
    });
    expect(res.body).not.toContain(SECRET);
    expect((await api('PUT', '/api/v1/integrations/stripe', { endpointSecret: 'not-a-secret' })).statusCode).toBe(422);
    const writer = (await api('POST', '/api/v1/api-keys', { name: 'writer', scopes: ['write'] })).json().key;
    expect((await asKey(ctx.app, writer)('PUT', '/api/v1/integrations/stripe', { endpointSecret: SECRET })).statusCode).toBe(403);
    const audit = await ctx.pool.query(`select after from audit_log where workspace_id = $1 and action = 'integration.stripe_configured'`, [
      brand.workspaceId,
    ]);
    expect(audit.rowCount).toBeGreaterThan(0);
    expect(JSON.stringify(audit.rows)).not.toContain(SECRET);
    // At rest the endpoint secret is encrypted (it must be read back to verify, so not hashed).
    const stored = await ctx.pool.query(`select endpoint_secret from stripe_settings where workspace_id = $1`, [brand.workspaceId]);
    expect(stored.rows[0].endpoint_secret).toMatch(/^v1\./);
    expect(stored.rows[0].endpoint_secret).not.toContain(SECRET.slice(6));
  });
});
