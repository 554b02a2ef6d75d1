import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { asKey, createTestContext, signupActor, type TestContext } from '../../test/harness.js';
import { withTransaction } from '../../db/tx.js';

/*
 * A budget of database round trips for the ingest hot path. On a busy machine each statement's
 * socket write costs more than the statement itself (docs/benchmarks.md, "Sale ingest"), so a change
 * that adds one to every sale should be a decision, not an accident: raise the budget knowingly.
 */

let ctx: TestContext;
let api: ReturnType<typeof asKey>;
let couponCode: string;
let statements = 0;
const counted = new WeakSet<pg.PoolClient>();

beforeAll(async () => {
  ctx = await createTestContext();
  // Counted on the wire, where a round trip is: each Sync (extended protocol) or simple Query
  // message. `begin` and `commit` riding with a statement (db/prepared.ts) are not extra ones.
  ctx.pool.on('acquire', (client) => {
    if (counted.has(client)) return;
    counted.add(client);
    const internals = client as unknown as { activeQuery?: { text?: string }; connection: { sync: () => void; query: (text: string) => void } };
    const { connection } = internals;
    const sync = connection.sync.bind(connection);
    const simple = connection.query.bind(connection);
    connection.sync = () => {
      // Not the after-commit wake-up: under load one serves a burst of commits (db/tx.test.ts).
      if (!internals.activeQuery?.text?.startsWith('select pg_notify(')) statements += 1;
      sync();
    };
    connection.query = (text: string) => {
      statements += 1;
      simple(text);
    };
  });
  const brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
  const program = await api('POST', '/api/v1/programs', {
    name: 'Budget',
    currency: 'USD',
    destinationUrl: 'https://brand.example/',
    // As the ingest benchmark: tiers and a cap make every sale read the partner's state.
    rules: {
      sale: { type: 'percentage', amount: 10 },
      tiers: { period: 'month', levels: [{ min: 5, type: 'percentage', amount: 15 }] },
      cap: { period: 'month', amount: 10_000_000 },
      qualification: { holdDays: 30 },
    },
  });
  expect(program.statusCode).toBe(201);
  const partner = await api('POST', `/api/v1/programs/${program.json().id}/partners`, { email: 'budget@partners.example', name: 'Budget', status: 'approved' });
  expect(partner.statusCode).toBe(201);
  couponCode = partner.json().enrollment.couponCode;
  // As on a server that has been running: every pooled connection has prepared `begin` and `commit`
  // (by its first transaction), so later ones send them with their first and last statements.
  await Promise.all(Array.from({ length: 8 }, () => withTransaction(ctx.pool, async (client) => void (await client.query('select $1::int', [1])))));
});
afterAll(async () => ctx?.close());

async function statementsFor(body: Record<string, unknown>): Promise<number> {
  // Warm the API key cache and the rules cache as a steady stream of sales would.
  await api('POST', '/api/v1/track/sale', { ...body, invoiceId: `${String(body.invoiceId)}-warm`, customer: { externalId: `${String(body.invoiceId)}-warm` } });
  await new Promise((r) => setTimeout(r, 50)); // let the once-a-minute key "last used" write pass
  statements = 0;
  const res = await api('POST', '/api/v1/track/sale', body);
  expect(res.statusCode, res.body).toBe(200);
  return statements;
}

describe('round trips per conversion', () => {
  // auth (cached) 0, begin + customer + stored invoice + coupon + program + locks 1, partner state +
  // fraud facts 1, sale + attribution + reward/commission/journal + events + rollup + fraud score + commit 1
  it('an attributed sale (coupon, new customer) with commission, journal entry and fraud score stays within budget', async () => {
    const n = await statementsFor({ customer: { externalId: 'rt-1' }, amount: 10_000, currency: 'USD', invoiceId: 'rt-inv-1', couponCode });
    expect(n).toBeLessThanOrEqual(3);
  });

  it("a returning customer's coupon sale (standing attribution to the same partner) stays within the same budget", async () => {
    await api('POST', '/api/v1/track/sale', { customer: { externalId: 'rt-back' }, amount: 10_000, currency: 'USD', invoiceId: 'rt-back-1', couponCode });
    await new Promise((r) => setTimeout(r, 50)); // as statementsFor: the key's "last used" write passes
    statements = 0;
    const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'rt-back' }, amount: 10_000, currency: 'USD', invoiceId: 'rt-back-2', couponCode });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().commission).toMatchObject({ status: 'pending' });
    expect(statements).toBeLessThanOrEqual(3);
  });

  it('an unattributed sale stays within budget', async () => {
    const n = await statementsFor({ customer: { externalId: 'rt-2' }, amount: 10_000, currency: 'USD', invoiceId: 'rt-inv-2' });
    // begin + customer + stored invoice 1, sale + event + rollup + commit 1
    expect(n).toBeLessThanOrEqual(2);
  });

  it('an attributed lead (coupon, no lead reward) stays within budget', async () => {
    await api('POST', '/api/v1/track/lead', { customer: { externalId: 'rt-lead-warm' }, couponCode });
    statements = 0;
    const res = await api('POST', '/api/v1/track/lead', { customer: { externalId: 'rt-lead', email: 'lead@example.com' }, couponCode });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().attributed).toBe(true);
    // begin + customer + lead claim + coupon 1, program 1, enrollment 1, lead + attribution + event + rollup + commit 1
    expect(statements).toBeLessThanOrEqual(4);
  });

  it("a Stripe workspace's sale pays one read more, after its commit, for the Stripe refunds that may wait for it", async () => {
    const stripeBrand = await signupActor(ctx.app);
    const stripeApi = asKey(ctx.app, stripeBrand.apiKey);
    expect((await stripeApi('PUT', '/api/v1/integrations/stripe', { endpointSecret: 'whsec_budget_0123456789abcdef' })).statusCode).toBe(200);
    const body = { customer: { externalId: 'rt-stripe' }, amount: 10_000, currency: 'USD', invoiceId: 'rt-stripe-1' };
    await stripeApi('POST', '/api/v1/track/sale', { ...body, invoiceId: 'rt-stripe-warm', customer: { externalId: 'rt-stripe-warm' } });
    await new Promise((r) => setTimeout(r, 50)); // as statementsFor: the key's "last used" write passes
    statements = 0;
    expect((await stripeApi('POST', '/api/v1/track/sale', body)).statusCode).toBe(200);
    // begin + customer + stored invoice + Stripe secret 1, sale + event + rollup + commit 1, waiting refunds (stripe/hooks.ts) 1
    expect(statements).toBeLessThanOrEqual(3);
  });

  it('a repeated invoice answers from the stored response', async () => {
    const body = { customer: { externalId: 'rt-3' }, amount: 10_000, currency: 'USD', invoiceId: 'rt-inv-3', couponCode };
    await api('POST', '/api/v1/track/sale', body);
    statements = 0;
    const res = await api('POST', '/api/v1/track/sale', body);
    expect(res.statusCode).toBe(200);
    // begin + customer + the stored body 1, rollback 1
    expect(statements).toBeLessThanOrEqual(2);
  });
});
