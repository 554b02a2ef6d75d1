import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { asKey, createTestContext, signupActor, type TestContext } from '../../test/harness.js';

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
  // Every statement goes through a checked-out client (pool.query checks one out too).
  ctx.pool.on('acquire', (client) => {
    if (counted.has(client)) return;
    counted.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      // Not the after-commit wake-up: under load one serves a burst of commits (db/tx.test.ts).
      if (!(typeof args[0] === 'string' && args[0].startsWith('select pg_notify('))) statements += 1;
      return query(...args);
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
  // auth (cached) 0, coupon 1, begin 1, customer + stored invoice 1, program + locks 1, partner state 1,
  // reward/commission/journal 1, fraud facts 1, sale + attribution + event + rollup + fraud score 1, commit 1
  it('an attributed sale (coupon, new customer) with commission, journal entry and fraud score stays within budget', async () => {
    const n = await statementsFor({ customer: { externalId: 'rt-1' }, amount: 10_000, currency: 'USD', invoiceId: 'rt-inv-1', couponCode });
    expect(n).toBeLessThanOrEqual(9);
  });

  it('an unattributed sale stays within budget', async () => {
    const n = await statementsFor({ customer: { externalId: 'rt-2' }, amount: 10_000, currency: 'USD', invoiceId: 'rt-inv-2' });
    expect(n).toBeLessThanOrEqual(4);
  });

  it('an attributed lead (coupon, no lead reward) stays within budget', async () => {
    await api('POST', '/api/v1/track/lead', { customer: { externalId: 'rt-lead-warm' }, couponCode });
    statements = 0;
    const res = await api('POST', '/api/v1/track/lead', { customer: { externalId: 'rt-lead', email: 'lead@example.com' }, couponCode });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().attributed).toBe(true);
    // coupon 1, begin 1, customer + lead claim 1, program 1, enrollment 1, lead + attribution + event + rollup 1, commit 1
    expect(statements).toBeLessThanOrEqual(7);
  });

  it('a repeated invoice answers from the stored response', async () => {
    const body = { customer: { externalId: 'rt-3' }, amount: 10_000, currency: 'USD', invoiceId: 'rt-inv-3', couponCode };
    await api('POST', '/api/v1/track/sale', body);
    statements = 0;
    const res = await api('POST', '/api/v1/track/sale', body);
    expect(res.statusCode).toBe(200);
    expect(statements).toBeLessThanOrEqual(5);
  });
});
