import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../../test/server-process.js';
import { createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { insertPartner, insertProgram, type PartnerFixture } from './test-fixtures.js';

/*
 * Idempotency across server processes: two real `tandem serve` processes share one PostgreSQL
 * (this test file's database) and receive the same sale at the same time. The unique index on
 * (workspace, invoice) is the only arbiter; both must answer 200 with the same body and exactly
 * one sale (and one sale.created event) must exist.
 */

let ctx: TestContext;
let brand: Actor;
let partner: PartnerFixture;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app);
  const program = await insertProgram(ctx.pool, brand.workspaceId);
  partner = await insertPartner(ctx.pool, program);
  servers.push(...(await Promise.all([startServerProcess(ctx.databaseUrl), startServerProcess(ctx.databaseUrl)])));
}, 90_000);

afterAll(async () => {
  await Promise.all(servers.map(stopServerProcess));
  await ctx?.close();
}, 30_000);

it('records exactly one sale when duplicates race on two server processes', async () => {
  const post = (port: number, body: object) =>
    fetch(`http://127.0.0.1:${port}/api/v1/track/sale`, {
      method: 'POST',
      headers: { authorization: `Bearer ${brand.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  for (let round = 0; round < 5; round++) {
    const sale = {
      customer: { externalId: `xproc-${round}` },
      amount: 2500 + round,
      currency: 'USD',
      invoiceId: `inv-xproc-${round}`,
      couponCode: partner.couponCode,
    };
    // 8 duplicates per process, released together.
    const responses = await Promise.all(servers.flatMap((s) => Array.from({ length: 8 }, () => post(s.port, sale))));
    const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, text: await r.text() })));
    expect(bodies.map((b) => b.status)).toEqual(Array(16).fill(200));
    // The same body, byte for byte, whichever process won.
    expect(new Set(bodies.map((b) => b.text)).size).toBe(1);
    expect(JSON.parse(bodies[0]!.text)).toMatchObject({ attributed: true, partnerId: partner.partnerId });
    const { rows } = await ctx.pool.query(
      `select (select count(*)::int from sales where workspace_id = $1 and invoice_id = $2) as sales,
              (select count(*)::int from outbox_events where workspace_id = $1 and type = 'sale.created' and data->>'invoiceId' = $2) as events,
              (select count(*)::int from customers where workspace_id = $1 and external_id = $3) as customers`,
      [brand.workspaceId, sale.invoiceId, sale.customer.externalId],
    );
    expect(rows[0]).toEqual({ sales: 1, events: 1, customers: 1 });
  }
}, 60_000);
