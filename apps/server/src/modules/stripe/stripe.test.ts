import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '@tandem/core';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { insertClick, insertPartner, insertProgram, type PartnerFixture, type ProgramFixture } from '../tracking/test-fixtures.js';
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

  it('acknowledges a refund of a payment Tandem never saw, and ignores unrelated events', async () => {
    const unknown = {
      id: `evt_unknown_${++seq}`,
      type: 'charge.refunded',
      created: nowSeconds,
      data: { object: { id: 'ch_x', payment_intent: 'pi_never_seen', amount_refunded: 100 } },
    };
    expect((await deliver(unknown)).json().outcome).toBe('ignored:unknown_sale');
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
