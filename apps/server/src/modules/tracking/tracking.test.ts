import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickIdFromUuid, DAY_MS, uuidv7 } from '@tandem/core';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { addConversionHooks, type LeadRecorded, type RefundRecorded, type SaleRecorded } from './hooks.js';
import { insertClick, insertPartner, insertProgram, type PartnerFixture, type ProgramFixture } from './test-fixtures.js';

const NOW = new Date('2026-06-15T12:00:00.000Z');
let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let program: ProgramFixture;
let partner: PartnerFixture;

// What the rewards module would see: records every hook call made by tracking.
const seen: { leads: LeadRecorded[]; sales: SaleRecorded[]; refunds: RefundRecorded[] } = { leads: [], sales: [], refunds: [] };
addConversionHooks({
  async onLead(_c, _s, e) {
    seen.leads.push(e);
    return {};
  },
  async onSale(_c, _s, e) {
    seen.sales.push(e);
    return {};
  },
  async onRefund(_c, _s, e) {
    seen.refunds.push(e);
    return { adjustments: [] };
  },
});

let seq = 0;
const ext = (label = 'cust') => `${label}-${++seq}`;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
  program = await insertProgram(ctx.pool, brand.workspaceId, { windowDays: 30 });
  partner = await insertPartner(ctx.pool, program);
});
afterAll(async () => ctx?.close());

describe('track/lead', () => {
  it('attributes a lead to the click inside the window and stores the email only as a keyed hash', async () => {
    const clickId = await insertClick(ctx.pool, program, partner, at(-2 * DAY_MS));
    const externalId = ext();
    const res = await api('POST', '/api/v1/track/lead', {
      clickId,
      customer: { externalId, email: 'Ada@Example.com', name: 'Ada', country: 'de' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      customer: { id: expect.stringMatching(/^cus_/), externalId },
      lead: { id: expect.stringMatching(/^led_/), eventName: 'sign_up' },
      attributed: true,
      partnerId: partner.partnerId,
    });
    const { rows } = await ctx.pool.query('select * from customers where workspace_id = $1 and external_id = $2', [
      brand.workspaceId,
      externalId,
    ]);
    expect(rows[0]).toMatchObject({
      partner_id: partner.partnerId,
      program_id: program.programId,
      click_id: clickId,
      attributed_via: 'click',
      country: 'DE',
      name: 'Ada',
    });
    expect(rows[0].email_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(rows[0])).not.toContain('xample.com');
    expect(seen.leads.at(-1)).toMatchObject({
      leadId: body.lead.id,
      attribution: { partnerId: partner.partnerId, enrollmentId: partner.enrollmentId, via: 'click', clickId },
    });
    const events = await ctx.pool.query(`select data from outbox_events where workspace_id = $1 and type = 'lead.created'`, [
      brand.workspaceId,
    ]);
    expect(events.rows.map((r) => r.data.id)).toContain(body.lead.id);
  });

  it('counts a click exactly windowDays before occurredAt and not one second earlier (boundary exact to the second)', async () => {
    const occurredAt = at(-DAY_MS);
    const onEdge = await insertClick(ctx.pool, program, partner, new Date(occurredAt.getTime() - 30 * DAY_MS));
    const inside = await api('POST', '/api/v1/track/lead', {
      clickId: onEdge,
      customer: { externalId: ext() },
      occurredAt: occurredAt.toISOString(),
    });
    expect(inside.json()).toMatchObject({ attributed: true, partnerId: partner.partnerId });

    const oneSecondTooOld = await insertClick(ctx.pool, program, partner, new Date(occurredAt.getTime() - 30 * DAY_MS - 1000));
    const externalId = ext();
    const outside = await api('POST', '/api/v1/track/lead', {
      clickId: oneSecondTooOld,
      customer: { externalId },
      occurredAt: occurredAt.toISOString(),
    });
    expect(outside.statusCode).toBe(200);
    expect(outside.json()).toMatchObject({ attributed: false, partnerId: null });
    // Unattributed conversions are stored all the same (analytics), and the refused touch is kept.
    const lead = await ctx.pool.query(
      'select l.partner_id from leads l join customers c on c.id = l.customer_id where c.external_id = $1',
      [externalId],
    );
    expect(lead.rows).toEqual([{ partner_id: null }]);
    const touch = await ctx.pool.query(
      'select t.eligible from customer_touches t join customers c on c.id = t.customer_id where c.external_id = $1',
      [externalId],
    );
    expect(touch.rows).toEqual([{ eligible: 'before_window' }]);
  });

  it('allows a click up to 5 minutes after occurredAt (clock skew) and no later', async () => {
    const occurredAt = at(-DAY_MS);
    const skewed = await insertClick(ctx.pool, program, partner, new Date(occurredAt.getTime() + 5 * 60_000));
    expect(
      (
        await api('POST', '/api/v1/track/lead', { clickId: skewed, customer: { externalId: ext() }, occurredAt: occurredAt.toISOString() })
      ).json().attributed,
    ).toBe(true);
    const tooLate = await insertClick(ctx.pool, program, partner, new Date(occurredAt.getTime() + 5 * 60_000 + 1000));
    expect(
      (
        await api('POST', '/api/v1/track/lead', { clickId: tooLate, customer: { externalId: ext() }, occurredAt: occurredAt.toISOString() })
      ).json().attributed,
    ).toBe(false);
  });

  it('attributes by coupon code without any click, case-insensitively and with no window', async () => {
    const res = await api('POST', '/api/v1/track/lead', {
      couponCode: partner.couponCode.toLowerCase(),
      customer: { externalId: ext() },
      occurredAt: at(-300 * DAY_MS).toISOString(),
    });
    expect(res.json()).toMatchObject({ attributed: true, partnerId: partner.partnerId });
    expect(seen.leads.at(-1)?.attribution).toMatchObject({ via: 'coupon', clickId: null });
  });

  it('stores a lead with an unknown coupon or an unknown click id unattributed', async () => {
    const unknownClick = clickIdFromUuid(uuidv7(NOW.getTime() - DAY_MS));
    const res = await api('POST', '/api/v1/track/lead', {
      clickId: unknownClick,
      couponCode: 'NOSUCHCODE',
      customer: { externalId: ext() },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ attributed: false, partnerId: null });
  });

  it('waits briefly for a fresh click still in the redirect batch buffer', async () => {
    const uuid = uuidv7(NOW.getTime() - 50);
    const clickId = clickIdFromUuid(uuid);
    const pending = api('POST', '/api/v1/track/lead', { clickId, customer: { externalId: ext() } });
    setTimeout(() => {
      void ctx.pool.query(
        'insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at) values ($1, $2, $3, $4, $5, $6)',
        [brand.workspaceId, uuid, partner.linkId, program.programId, partner.partnerId, new Date(NOW.getTime() - 50)],
      );
    }, 120);
    expect((await pending).json()).toMatchObject({ attributed: true, partnerId: partner.partnerId });
  });

  it('answers a repeated lead (same customer and event) with the same body and changes nothing', async () => {
    const clickId = await insertClick(ctx.pool, program, partner, at(-DAY_MS));
    const externalId = ext();
    const first = await api('POST', '/api/v1/track/lead', { clickId, customer: { externalId, name: 'First' }, eventName: 'trial' });
    const again = await api('POST', '/api/v1/track/lead', { customer: { externalId, name: 'Changed' }, eventName: 'trial' });
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    const { rows } = await ctx.pool.query(
      'select c.name, count(l.id)::int as leads from customers c join leads l on l.customer_id = c.id where c.external_id = $1 group by c.name',
      [externalId],
    );
    expect(rows).toEqual([{ name: 'First', leads: 1 }]);
    // Another event of the same customer is a new lead.
    const other = await api('POST', '/api/v1/track/lead', { customer: { externalId }, eventName: 'activated' });
    expect(other.json().lead.id).not.toBe(first.json().lead.id);
  });

  it('records one lead when 10 duplicates of a new customer race in parallel, all answered alike', async () => {
    const externalId = ext('race');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => api('POST', '/api/v1/track/lead', { couponCode: partner.couponCode, customer: { externalId } })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(new Set(results.map((r) => r.body)).size).toBe(1);
    const { rows } = await ctx.pool.query(
      `select (select count(*)::int from customers where workspace_id = $1 and external_id = $2) as customers,
              (select count(*)::int from leads l join customers c on c.workspace_id = l.workspace_id and c.id = l.customer_id where c.workspace_id = $1 and c.external_id = $2) as leads`,
      [brand.workspaceId, externalId],
    );
    expect(rows[0]).toEqual({ customers: 1, leads: 1 });
  });

  it('refuses occurredAt more than 5 minutes in the future (422) but accepts exactly 5 minutes', async () => {
    const res = await api('POST', '/api/v1/track/lead', {
      customer: { externalId: ext() },
      occurredAt: at(5 * 60_000 + 1000).toISOString(),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details).toEqual([{ path: 'occurredAt', message: expect.stringContaining('5 minutes') }]);
    expect(
      (await api('POST', '/api/v1/track/lead', { customer: { externalId: ext() }, occurredAt: at(5 * 60_000).toISOString() })).statusCode,
    ).toBe(200);
  });

  it('refuses a malformed click id, a missing externalId and unknown keys with 422 naming them', async () => {
    const res = await api('POST', '/api/v1/track/lead', { clickId: 'clk_nope', customer: { externalId: '' }, extra: 1 });
    expect(res.statusCode).toBe(422);
    expect(
      res
        .json()
        .error.details.map((d: { path: string }) => d.path)
        .sort(),
    ).toEqual(['clickId', 'customer.externalId', 'extra']);
  });

  it('needs the write scope', async () => {
    const created = await api('POST', '/api/v1/api-keys', { name: 'read only', scopes: ['read'] });
    const readOnly = asKey(ctx.app, created.json().key);
    expect((await readOnly('POST', '/api/v1/track/lead', { customer: { externalId: ext() } })).statusCode).toBe(403);
    expect(
      (await ctx.app.inject({ method: 'POST', url: '/api/v1/track/lead', payload: { customer: { externalId: ext() } } })).statusCode,
    ).toBe(401);
  });

  it('attributes to a non-approved enrollment for analytics, tells the reward hooks its status, and only the approved partner earns', async () => {
    const paying = await insertProgram(ctx.pool, brand.workspaceId, { rules: { lead: { type: 'flat', amount: 500 } } });
    const approved = await insertPartner(ctx.pool, paying);
    const suspended = await insertPartner(ctx.pool, paying, { status: 'suspended' });

    const earned = await api('POST', '/api/v1/track/lead', {
      clickId: await insertClick(ctx.pool, paying, approved, at(-DAY_MS)),
      customer: { externalId: ext() },
    });
    // The rewards module's hook ran inside the tracking transaction and its commission is merged in.
    expect(earned.json()).toMatchObject({
      attributed: true,
      partnerId: approved.partnerId,
      commission: { id: expect.any(String), amount: 500 },
    });

    const res = await api('POST', '/api/v1/track/lead', {
      clickId: await insertClick(ctx.pool, paying, suspended, at(-DAY_MS)),
      customer: { externalId: ext() },
    });
    expect(res.json()).toMatchObject({ attributed: true, partnerId: suspended.partnerId });
    expect(res.json().commission).toBeUndefined();
    expect(seen.leads.at(-1)?.attribution).toMatchObject({ partnerId: suspended.partnerId, enrollmentStatus: 'suspended' });
  });
});

describe('first vs last touch', () => {
  async function twoTouches(model: 'first_touch' | 'last_touch') {
    const prog = await insertProgram(ctx.pool, brand.workspaceId, { model, windowDays: 30 });
    const p1 = await insertPartner(ctx.pool, prog);
    const p2 = await insertPartner(ctx.pool, prog);
    const externalId = ext(model);
    const c1 = await insertClick(ctx.pool, prog, p1, at(-10 * DAY_MS));
    const lead = await api('POST', '/api/v1/track/lead', {
      clickId: c1,
      customer: { externalId },
      occurredAt: at(-9 * DAY_MS).toISOString(),
    });
    expect(lead.json().partnerId).toBe(p1.partnerId);
    const c2 = await insertClick(ctx.pool, prog, p2, at(-DAY_MS));
    const sale = await api('POST', '/api/v1/track/sale', {
      clickId: c2,
      customer: { externalId },
      amount: 5000,
      currency: 'USD',
      invoiceId: `inv-${externalId}`,
    });
    expect(sale.statusCode).toBe(200);
    return { sale: sale.json(), p1, p2, externalId };
  }

  it('first_touch: the customer stays with the partner of its first click', async () => {
    const { sale, p1 } = await twoTouches('first_touch');
    expect(sale.partnerId).toBe(p1.partnerId);
  });

  it('last_touch: a later click inside the window moves the customer to the newer partner', async () => {
    const { sale, p2, externalId } = await twoTouches('last_touch');
    expect(sale.partnerId).toBe(p2.partnerId);
    const touches = await ctx.pool.query(
      'select t.partner_id from customer_touches t join customers c on c.id = t.customer_id where c.external_id = $1 order by t.touch_at',
      [externalId],
    );
    expect(touches.rows).toHaveLength(2);
  });

  it('a later sale without click or coupon keeps the standing attribution, even after the window', async () => {
    const externalId = ext();
    const clickId = await insertClick(ctx.pool, program, partner, at(-60 * DAY_MS));
    await api('POST', '/api/v1/track/lead', { clickId, customer: { externalId }, occurredAt: at(-59 * DAY_MS).toISOString() });
    const sale = await api('POST', '/api/v1/track/sale', {
      customer: { externalId },
      amount: 100,
      currency: 'USD',
      invoiceId: `inv-${externalId}`,
    });
    expect(sale.json()).toMatchObject({ attributed: true, partnerId: partner.partnerId });
  });
});

describe('track/sale', () => {
  it('creates an unknown customer from a sale with a coupon, attributes it and calls the sale hook', async () => {
    const externalId = ext();
    const res = await api('POST', '/api/v1/track/sale', {
      customer: { externalId },
      amount: 12_345,
      currency: 'usd',
      invoiceId: `inv-${externalId}`,
      couponCode: partner.couponCode,
      productId: 'pro',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      sale: { id: expect.stringMatching(/^sal_/) },
      customer: { id: expect.stringMatching(/^cus_/), externalId },
      attributed: true,
      partnerId: partner.partnerId,
    });
    expect(seen.sales.at(-1)).toMatchObject({ amount: 12_345, currency: 'USD', productId: 'pro', attribution: { via: 'coupon' } });
    const { rows } = await ctx.pool.query('select amount, currency, partner_id, attributed_via from sales where invoice_id = $1', [
      `inv-${externalId}`,
    ]);
    expect(rows).toEqual([{ amount: 12_345, currency: 'USD', partner_id: partner.partnerId, attributed_via: 'coupon' }]);
  });

  it('stores an unattributed sale of an unknown customer (it matters for analytics) with partnerId null', async () => {
    const res = await api('POST', '/api/v1/track/sale', {
      customer: { externalId: ext() },
      amount: 700,
      currency: 'EUR',
      invoiceId: `inv-plain-${seq}`,
    });
    expect(res.json()).toMatchObject({ attributed: false, partnerId: null });
    expect(seen.sales.at(-1)?.attribution).toBeNull();
    expect(res.json().commission).toBeUndefined();
  });

  it('answers a repeated invoiceId with the same body and records one sale (sequential)', async () => {
    const externalId = ext();
    const payload = {
      customer: { externalId },
      amount: 999,
      currency: 'USD',
      invoiceId: `inv-${externalId}`,
      couponCode: partner.couponCode,
    };
    const first = await api('POST', '/api/v1/track/sale', payload);
    const again = await api('POST', '/api/v1/track/sale', { ...payload, amount: 1 });
    expect(again.body).toBe(first.body);
    const { rows } = await ctx.pool.query('select amount from sales where invoice_id = $1', [payload.invoiceId]);
    expect(rows).toEqual([{ amount: 999 }]);
  });

  it('records exactly one sale when 12 duplicates race in parallel', async () => {
    const externalId = ext();
    const payload = {
      customer: { externalId },
      amount: 4200,
      currency: 'USD',
      invoiceId: `inv-race-${externalId}`,
      couponCode: partner.couponCode,
    };
    const results = await Promise.all(Array.from({ length: 12 }, () => api('POST', '/api/v1/track/sale', payload)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(12).fill(200));
    expect(new Set(results.map((r) => r.json().sale.id)).size).toBe(1);
    const counts = await ctx.pool.query(
      `select (select count(*)::int from sales where invoice_id = $1) as sales,
              (select count(*)::int from outbox_events where type = 'sale.created' and data->>'invoiceId' = $1) as events`,
      [payload.invoiceId],
    );
    expect(counts.rows[0]).toEqual({ sales: 1, events: 1 });
  });

  it('records exactly one sale when duplicates of an invoice race under different customers', async () => {
    // Different customers do not wait for each other's customer lock: each duplicate runs its whole
    // transaction and learns of the winner only when inserting the sale (or on a unique index).
    const invoiceId = `inv-race-customers-${ext()}`;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => api('POST', '/api/v1/track/sale', { customer: { externalId: ext(`racer${i}`) }, amount: 4200, currency: 'USD', invoiceId, couponCode: partner.couponCode })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    expect(new Set(results.map((r) => r.json().sale.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.json().customer.id)).size).toBe(1);
    const counts = await ctx.pool.query(
      `select (select count(*)::int from sales where invoice_id = $1) as sales,
              (select count(*)::int from commissions where sale_id = (select id from sales where invoice_id = $1)) as commissions,
              (select count(*)::int from outbox_events where type = 'sale.created' and data->>'invoiceId' = $1) as events`,
      [invoiceId],
    );
    expect(counts.rows[0]).toEqual({ sales: 1, commissions: results[0]!.json().commission ? 1 : 0, events: 1 });
    expect(results.map((r) => r.json().commission?.id ?? null)).toEqual(results.map(() => results[0]!.json().commission?.id ?? null));
  });

  it('refuses a negative amount and a bad currency with 422', async () => {
    const res = await api('POST', '/api/v1/track/sale', {
      customer: { externalId: ext() },
      amount: -5,
      currency: 'dollars',
      invoiceId: 'x',
    });
    expect(res.statusCode).toBe(422);
    expect(
      res
        .json()
        .error.details.map((d: { path: string }) => d.path)
        .sort(),
    ).toEqual(['amount', 'currency']);
  });
});

describe('track/refund', () => {
  async function sale(amount: number) {
    const externalId = ext();
    const invoiceId = `inv-ref-${externalId}`;
    const res = await api('POST', '/api/v1/track/sale', {
      customer: { externalId },
      amount,
      currency: 'USD',
      invoiceId,
      couponCode: partner.couponCode,
    });
    return { invoiceId, saleId: res.json().sale.id as string };
  }

  it('answers 404 for an unknown invoice', async () => {
    const res = await api('POST', '/api/v1/track/refund', { invoiceId: 'inv-does-not-exist' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });

  it('refunds partially, then the rest by default, and refuses (422, never clamps) a refund beyond the sale', async () => {
    const { invoiceId, saleId } = await sale(10_000);
    const part = await api('POST', '/api/v1/track/refund', { invoiceId, amount: 3000 });
    expect(part.statusCode).toBe(200);
    expect(part.json()).toEqual({
      refund: { id: expect.stringMatching(/^ref_/), amount: 3000 },
      sale: { id: saleId, amount: 10_000, refundedAmount: 3000 },
      adjustments: [],
    });
    expect(seen.refunds.at(-1)).toMatchObject({ saleId, amount: 3000, saleAmount: 10_000, refundedBefore: 0 });

    const tooMuch = await api('POST', '/api/v1/track/refund', { invoiceId, amount: 7001 });
    expect(tooMuch.statusCode).toBe(422);
    expect(tooMuch.json().error.details).toEqual([{ path: 'amount', message: expect.stringContaining('7000') }]);

    const rest = await api('POST', '/api/v1/track/refund', { invoiceId });
    expect(rest.json()).toMatchObject({ refund: { amount: 7000 }, sale: { refundedAmount: 10_000 } });
    const after = await api('POST', '/api/v1/track/refund', { invoiceId, amount: 1 });
    expect(after.statusCode).toBe(422);
    const { rows } = await ctx.pool.query(
      'select refunded_amount, (select sum(amount)::int from refunds where sale_id = $1) as refunds from sales where id = $1',
      [saleId],
    );
    expect(rows).toEqual([{ refunded_amount: 10_000, refunds: 10_000 }]);
  });

  it('never lets concurrent partial refunds exceed the sale', async () => {
    const { invoiceId, saleId } = await sale(1000);
    const results = await Promise.all(Array.from({ length: 8 }, () => api('POST', '/api/v1/track/refund', { invoiceId, amount: 300 })));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(3);
    expect(results.filter((r) => r.statusCode === 422)).toHaveLength(5);
    const { rows } = await ctx.pool.query('select refunded_amount from sales where id = $1', [saleId]);
    expect(rows[0].refunded_amount).toBe(900);
  });
});

describe('consent', () => {
  const customerRow = async (externalId: string) =>
    (
      await ctx.pool.query(
        `select id, external_id, email_hash, name, country, partner_id, click_id, attributed_via from customers
          where workspace_id = $1 and external_id = $2`,
        [brand.workspaceId, externalId],
      )
    ).rows[0];
  const touchesOf = async (customerId: string) =>
    (
      await ctx.pool.query('select touch_key from customer_touches where workspace_id = $1 and customer_id = $2', [
        brand.workspaceId,
        customerId,
      ])
    ).rows;

  it('without consent a lead keeps only what attribution needs: no email hash, name, country or touch history', async () => {
    const clickId = await insertClick(ctx.pool, program, partner, at(-DAY_MS));
    const unknownClick = clickIdFromUuid(uuidv7(at(-DAY_MS).getTime()));
    const externalId = ext('no-consent');
    const res = await api('POST', '/api/v1/track/lead', {
      clickId,
      customer: { externalId, email: 'grace@example.com', name: 'Grace Hopper', country: 'us' },
      consent: false,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ attributed: true, partnerId: partner.partnerId });
    const row = await customerRow(externalId);
    expect(row).toEqual({
      id: res.json().customer.id,
      external_id: externalId,
      email_hash: null,
      name: null,
      country: null,
      partner_id: partner.partnerId,
      click_id: clickId,
      attributed_via: 'click',
    });
    expect(await touchesOf(row.id)).toEqual([]);
    // The rewards hooks do not see the country either: they keep it with the reward event.
    expect(seen.leads.at(-1)).toMatchObject({ leadId: res.json().lead.id, customerCountry: null });

    // A second event without consent, with an unknown click: still nothing personal and no history.
    await api('POST', '/api/v1/track/lead', {
      clickId: unknownClick,
      customer: { externalId, name: 'Grace' },
      eventName: 'trial',
      consent: false,
    });
    expect(await customerRow(externalId)).toMatchObject({ email_hash: null, name: null, country: null, click_id: clickId });
    expect(await touchesOf(row.id)).toEqual([]);
  });

  it('without consent a sale creates a customer with no personal details, and stays attributed', async () => {
    const externalId = ext('no-consent-sale');
    const res = await api('POST', '/api/v1/track/sale', {
      customer: { externalId, email: 'linus@example.com', name: 'Linus', country: 'fi' },
      amount: 4200,
      currency: 'usd',
      invoiceId: `inv-${externalId}`,
      couponCode: partner.couponCode,
      consent: false,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ attributed: true, partnerId: partner.partnerId });
    expect(await customerRow(externalId)).toMatchObject({
      email_hash: null,
      name: null,
      country: null,
      partner_id: partner.partnerId,
      attributed_via: 'coupon',
    });
    expect(seen.sales.at(-1)).toMatchObject({ saleId: res.json().sale.id, customerCountry: null });
  });

  it('a call without consent erases the details an earlier consented call stored; consent is on by default', async () => {
    const externalId = ext('withdrawn');
    await api('POST', '/api/v1/track/lead', { customer: { externalId, email: 'ken@example.com', name: 'Ken', country: 'gb' } });
    expect(await customerRow(externalId)).toMatchObject({ name: 'Ken', country: 'GB', email_hash: expect.any(String) });
    const sale = await api('POST', '/api/v1/track/sale', {
      customer: { externalId },
      amount: 1000,
      currency: 'USD',
      invoiceId: `inv-${externalId}`,
      consent: false,
    });
    expect(sale.statusCode).toBe(200);
    expect(await customerRow(externalId)).toMatchObject({ email_hash: null, name: null, country: null });
  });

  it('refuses a consent that is not a boolean with 422 naming the field', async () => {
    const res = await api('POST', '/api/v1/track/lead', { customer: { externalId: ext() }, consent: 'no' });
    expect(res.statusCode).toBe(422);
    expect(JSON.stringify(res.json())).toContain('consent');
  });
});

describe('tenant isolation', () => {
  it("never attributes another workspace's click or coupon, nor refunds its invoices", async () => {
    const other = await signupActor(ctx.app);
    const otherProgram = await insertProgram(ctx.pool, other.workspaceId);
    const otherPartner = await insertPartner(ctx.pool, otherProgram);
    const theirClick = await insertClick(ctx.pool, otherProgram, otherPartner, at(-DAY_MS));
    const lead = await api('POST', '/api/v1/track/lead', {
      clickId: theirClick,
      couponCode: otherPartner.couponCode,
      customer: { externalId: ext() },
    });
    expect(lead.json()).toMatchObject({ attributed: false, partnerId: null });

    const theirs = asKey(ctx.app, other.apiKey);
    const invoiceId = `shared-invoice-${seq}`;
    const theirSale = await theirs('POST', '/api/v1/track/sale', {
      customer: { externalId: 'c1' },
      amount: 100,
      currency: 'USD',
      invoiceId,
    });
    expect((await api('POST', '/api/v1/track/refund', { invoiceId })).statusCode).toBe(404);
    // The same invoice id in another workspace is another sale.
    const mine = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'c1' }, amount: 100, currency: 'USD', invoiceId });
    expect(mine.json().sale.id).not.toBe(theirSale.json().sale.id);
  });
});

describe('OpenAPI', () => {
  it('documents the tracking, Stripe and analytics endpoints', async () => {
    const doc = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    for (const p of ['/api/v1/track/lead', '/api/v1/track/sale', '/api/v1/track/refund', '/api/v1/integrations/stripe/webhook'])
      expect(doc.paths[p].post).toBeDefined();
    expect(doc.paths['/api/v1/analytics/summary'].get).toBeDefined();
    expect(doc.paths['/api/v1/integrations/stripe'].put).toBeDefined();
  });
});
