import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickIdFromUuid, uuidv7 } from '@tandem/core';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';

const NOW = new Date('2026-10-01T12:00:00.000Z');
const DAY = 24 * 3600 * 1000;
let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let partnerId: string;
let clickId: string;

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
  const programId = (await api('POST', '/api/v1/programs', { name: 'History', currency: 'USD', destinationUrl: 'https://brand.example/' })).json().id;
  const added = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: `p-${brand.workspaceId}@partners.example`, name: 'P' })).json();
  partnerId = added.partner.id;
  // A click 20 days ago: a sale 10 days ago lies inside the 30-day window, attributed to it.
  const uuid = uuidv7(NOW.getTime() - 20 * DAY);
  await ctx.pool.query(`insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at) values ($1, $2, $3, $4, $5, $6)`, [
    brand.workspaceId, uuid, added.link.id, programId, partnerId, new Date(NOW.getTime() - 20 * DAY),
  ]);
  clickId = clickIdFromUuid(uuid);
});
afterAll(async () => ctx?.close());

const upload = (csv: string, query = '') =>
  ctx.app.inject({ method: 'POST', url: `/api/v1/conversions/import${query}`, headers: { authorization: `Bearer ${brand.apiKey}`, 'content-type': 'text/csv' }, payload: csv });

/** Uploads, expects the import to be accepted (202), runs the queue and answers the finished import. */
const importAndWait = async (csv: string, query = '') => {
  const res = await upload(csv, query);
  expect(res.statusCode).toBe(202);
  const accepted = res.json();
  expect(accepted).toMatchObject({ status: 'queued', recorded: 0 });
  await ctx.services.queue.drain();
  const polled = await api('GET', `/api/v1/conversions/imports/${accepted.id}`);
  expect(polled.statusCode).toBe(200);
  return polled.json();
};

const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();
const salesOf = async (invoicePrefix: string) =>
  (await ctx.pool.query('select invoice_id, amount, partner_id, occurred_at from sales where workspace_id = $1 and invoice_id like $2 order by invoice_id', [brand.workspaceId, `${invoicePrefix}%`])).rows;

describe('POST /api/v1/conversions/import', () => {
  it('records historical leads and sales through tracking, attributed at their own time', async () => {
    const csv = [
      'type,externalId,email,clickId,amount,currency,invoiceId,occurredAt',
      `lead,h-1,h1@c.example,${clickId},,,,${ago(11)}`,
      `sale,h-1,,,2500,usd,A-1,${ago(10)}`,
      `sale,h-2,,,900,USD,A-2,${ago(5)}`,
    ].join('\n');
    const done = await importAndWait(csv);
    expect(done).toMatchObject({ status: 'completed', skipBadRows: false, rows: 3, recorded: 3, failed: 0, errors: [], error: null });
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
    const sales = await salesOf('A-');
    expect(sales).toEqual([
      { invoice_id: 'A-1', amount: 2500, partner_id: partnerId, occurred_at: new Date(ago(10)) },
      { invoice_id: 'A-2', amount: 900, partner_id: null, occurred_at: new Date(ago(5)) },
    ]);
    // Importing again changes nothing: sales are idempotent per invoice id.
    expect(await importAndWait(csv)).toMatchObject({ status: 'completed', recorded: 3, failed: 0 });
    expect(await salesOf('A-')).toHaveLength(2);
    // The spooled rows are gone once recorded, and the import is audited.
    expect((await ctx.pool.query('select count(*)::int as n from conversion_import_rows where workspace_id = $1', [brand.workspaceId])).rows[0].n).toBe(0);
    const audit = await ctx.pool.query(`select after from audit_log where workspace_id = $1 and action = 'conversions.imported' and target_id = $2`, [brand.workspaceId, done.id]);
    expect(audit.rows).toEqual([{ after: { rows: 3, recorded: 3, failed: 0 } }]);
  });

  it('records each customer’s rows in file order, so a lead attributes before its sale', async () => {
    const lines = ['type,externalId,clickId,amount,currency,invoiceId,occurredAt'];
    for (let i = 0; i < 40; i++) {
      lines.push(`lead,o-${i},${clickId},,,,${ago(12)}`);
      lines.push(`sale,o-${i},,${100 + i},USD,O-${String(i).padStart(2, '0')},${ago(11)}`);
    }
    expect(await importAndWait(lines.join('\n'))).toMatchObject({ status: 'completed', rows: 80, recorded: 80, failed: 0 });
    const sales = await salesOf('O-');
    expect(sales).toHaveLength(40);
    expect(sales.every((s) => s.partner_id === partnerId)).toBe(true);
  });

  it('validates every row like the tracking API and writes nothing when one fails', async () => {
    const csv = [
      'type,externalId,amount,currency,invoiceId,occurredAt',
      `sale,b-1,100,USD,B-1,${ago(1)}`,
      `sale,b-2,ten,USD,B-2,${ago(1)}`,
      `sale,,100,USD,B-3,${ago(1)}`,
      `refund,b-4,100,USD,B-4,${ago(1)}`,
      `sale,b-5,100,USD,B-5,${new Date(NOW.getTime() + DAY).toISOString()}`,
      `sale,b-6,100,USD,,`,
    ].join('\n');
    const refused = await upload(csv);
    expect(refused.statusCode).toBe(200);
    const report = refused.json();
    expect(report).toMatchObject({ committed: false, rows: 6, succeeded: 1, failed: 5 });
    expect(report.errors.map((e: { row: number; path: string }) => [e.row, e.path])).toEqual([
      [2, 'amount'],
      [3, 'externalId'],
      [4, 'type'],
      [5, 'occurredAt'],
      [6, 'invoiceId'],
    ]);
    expect(await salesOf('B-')).toEqual([]);
    const dryRes = await upload(`type,externalId,amount,currency,invoiceId\nsale,c-1,100,USD,C-1\n`, '?dryRun=true');
    expect(dryRes.statusCode).toBe(200);
    expect(dryRes.json()).toEqual({ dryRun: true, skipBadRows: false, committed: false, rows: 1, succeeded: 1, failed: 0, errors: [] });
    expect(await salesOf('C-')).toEqual([]);
    const skipping = await importAndWait(csv, '?skipBadRows=true');
    expect(skipping).toMatchObject({ status: 'completed', skipBadRows: true, rows: 6, recorded: 1, failed: 5 });
    expect(skipping.errors.map((e: { row: number; path: string }) => [e.row, e.path])).toEqual([
      [2, 'amount'],
      [3, 'externalId'],
      [4, 'type'],
      [5, 'occurredAt'],
      [6, 'invoiceId'],
    ]);
    expect((await salesOf('B-')).map((s) => s.invoice_id)).toEqual(['B-1']);
  });

  it('refuses an unusable header', async () => {
    const res = await upload('customer,amount\nx,1\n');
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(['header.customer', 'header.externalId']);
  });
});
