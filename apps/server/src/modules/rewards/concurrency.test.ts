import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../../test/server-process.js';
import { createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import type { PartnerFixture, ProgramFixture } from '../tracking/test-fixtures.js';
import { replayStoredProgram } from './replay.js';
import { insertPartnerWithTags, insertProgramWithRules } from './test-fixtures.js';

/*
 * 32 concurrent clients send sales — a third of them duplicates of another client's — for the same
 * few partners to two `tandem serve` processes on one PostgreSQL, while maturity runs on both.
 * A monthly cap makes every commission depend on what the partner earned before it, so any lost
 * serialisation shows up as a wrong amount. Afterwards: exactly one commission per invoice, a valid
 * chain, balanced books, and replay agrees with every stored commission.
 */

let ctx: TestContext;
let brand: Actor;
let program: ProgramFixture;
let partners: PartnerFixture[];
const servers: ServerProcess[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app);
  program = await insertProgramWithRules(ctx.pool, brand.workspaceId, {
    sale: { type: 'percentage', amount: 10 },
    tiers: { period: 'month', levels: [{ min: 3, type: 'percentage', amount: 15 }] },
    bonuses: [{ kind: 'early_bird', period: 'month', first: 10, scope: 'program', amount: 100 }],
    cap: { period: 'month', amount: 20_000 },
    qualification: { holdDays: 0 },
  });
  partners = [];
  for (let i = 0; i < 4; i++) partners.push(await insertPartnerWithTags(ctx.pool, program));
  servers.push(...(await Promise.all([startServerProcess(ctx.databaseUrl), startServerProcess(ctx.databaseUrl)])));
}, 90_000);

afterAll(async () => {
  await Promise.all(servers.map(stopServerProcess));
  await ctx?.close();
}, 30_000);

it('32 concurrent clients with duplicates on two processes: exactly-once commissions, a valid chain, balanced books', async () => {
  const call = (port: number, method: string, url: string, body?: object) =>
    fetch(`http://127.0.0.1:${port}${url}`, {
      method,
      headers: { authorization: `Bearer ${brand.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const INVOICES = 240;
  const saleFor = (n: number) => ({
    customer: { externalId: `cc-${n % 40}` },
    amount: 5_000 + (n % 7) * 1_000,
    currency: 'USD',
    invoiceId: `cc-inv-${n}`,
    couponCode: partners[n % partners.length]!.couponCode,
  });
  const statuses: number[] = [];
  const bodies = new Map<string, Set<string>>();
  await Promise.all(
    Array.from({ length: 32 }, async (_, client) => {
      const port = servers[client % 2]!.port;
      for (let k = 0; k < 11; k++) {
        // Clients walk the invoices with overlapping strides: about a third of requests repeat another's invoice.
        const n = (client * 7 + k * 23) % INVOICES;
        const res = await call(port, 'POST', '/api/v1/track/sale', saleFor(n));
        statuses.push(res.status);
        const text = await res.text();
        const set = bodies.get(`cc-inv-${n}`) ?? new Set<string>();
        set.add(text);
        bodies.set(`cc-inv-${n}`, set);
        if (k % 5 === 4) statuses.push((await call(port, 'POST', '/api/v1/jobs/mature', {})).status);
      }
    }),
  );
  expect(new Set(statuses)).toEqual(new Set([200]));
  // Every repeat of an invoice answered with the same body, commission included.
  for (const set of bodies.values()) expect(set.size).toBe(1);
  const requests = 32 * 11;
  expect(bodies.size).toBeLessThan(requests);

  const ws = brand.workspaceId;
  const { rows } = await ctx.pool.query<{ sales: number; commissions: number; distinct_sales: number }>(
    `select (select count(*)::int from sales where workspace_id = $1) as sales,
            (select count(*)::int from commissions where workspace_id = $1 and kind = 'sale') as commissions,
            (select count(distinct sale_id)::int from commissions where workspace_id = $1 and kind = 'sale') as distinct_sales`,
    [ws],
  );
  expect(rows[0]).toEqual({ sales: bodies.size, commissions: bodies.size, distinct_sales: bodies.size });

  const verify = await (await call(servers[0]!.port, 'GET', '/api/v1/ledger/verify')).json();
  expect(verify).toMatchObject({ ok: true, chains: partners.length, problems: [] });
  const { rows: books } = await ctx.pool.query<{ total: number; unbalanced: number }>(
    `select coalesce(sum(amount), 0)::bigint as total,
            (select count(*)::int from (select entry_id from ledger_postings where workspace_id = $1 group by entry_id having sum(amount) <> 0) u) as unbalanced
       from ledger_postings where workspace_id = $1`,
    [ws],
  );
  expect(books[0]).toEqual({ total: 0, unbalanced: 0 });
  for (const p of partners) {
    const balance = (await (await call(servers[1]!.port, 'GET', `/api/v1/partners/${p.partnerId}/balance?programId=${program.programId}`)).json()) as { pending: number; payable: number; paid: number };
    const { rows: sums } = await ctx.pool.query<{ net: number }>('select coalesce(sum(amount - reversed_amount), 0)::bigint as net from commissions where workspace_id = $1 and partner_id = $2', [ws, p.partnerId]);
    expect(balance.pending + balance.payable + balance.paid).toBe(sums[0]!.net);
  }
  const report = await replayStoredProgram(ctx.pool, program.programId);
  expect(report.differences).toEqual([]);
  expect(report.commissions).toBeGreaterThan(bodies.size);
}, 120_000);
