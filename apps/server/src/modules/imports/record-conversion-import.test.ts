import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversionImport } from '@tandem/contracts';
import type { Services } from '../../http/context.js';
import type { JobHandler } from '../../jobs/queue.js';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { RECORD_QUEUE } from './conversion-imports.js';
import { DEFAULT_RECORD_OPTIONS, recordChunk, recordImportSlice, registerImportJobs, type ValidatedConversion } from './record-conversion-import.js';

const NOW = new Date('2026-10-01T12:00:00.000Z');
const MINUTE = 60_000;
let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
});
afterAll(async () => ctx?.close());

const upload = (actor: Actor, csv: string, query = '') =>
  ctx.app.inject({ method: 'POST', url: `/api/v1/conversions/import${query}`, headers: { authorization: `Bearer ${actor.apiKey}`, 'content-type': 'text/csv' }, payload: csv });

/** A CSV of `count` sales, one customer each, invoices `<prefix>-0 …`. */
const salesCsv = (prefix: string, count: number) =>
  ['type,externalId,amount,currency,invoiceId,occurredAt', ...Array.from({ length: count }, (_, i) => `sale,${prefix}-c${i},${100 + i},USD,${prefix}-${i},${new Date(NOW.getTime() - 60 * MINUTE).toISOString()}`)].join('\n');

const accept = async (csv: string, query = '') => {
  const res = await upload(brand, csv, query);
  expect(res.statusCode).toBe(202);
  return res.json<{ id: string; status: string }>();
};
const importOf = async (id: string) => (await api('GET', `/api/v1/conversions/imports/${id}`)).json();
const salesCount = async (prefix: string) =>
  (await ctx.pool.query<{ n: number }>('select count(*)::int as n from sales where workspace_id = $1 and invoice_id like $2', [brand.workspaceId, `${prefix}-%`])).rows[0]!.n;
const storedRows = async (id: string) =>
  (await ctx.pool.query<{ n: number }>('select count(*)::int as n from conversion_import_rows where workspace_id = $1 and import_id = $2', [brand.workspaceId, id])).rows[0]!.n;

describe('conversion imports in the background', () => {
  it('answers 202 queued with the counts, stores the rows, and reports progress until completed', async () => {
    const accepted = await accept(salesCsv('Q', 5));
    expect(accepted).toMatchObject({ status: 'queued', skipBadRows: false, rows: 5, recorded: 0, failed: 0, errors: [], error: null, startedAt: null, finishedAt: null });
    // The 202 is sent by the route itself, past the router's response check: hold it to the contract here.
    expect(conversionImport.safeParse(accepted).success).toBe(true);
    expect(await storedRows(accepted.id)).toBe(5);
    expect(await importOf(accepted.id)).toMatchObject({ status: 'queued' });
    await ctx.services.queue.drain();
    expect(await importOf(accepted.id)).toMatchObject({ status: 'completed', rows: 5, recorded: 5, failed: 0 });
    expect(await salesCount('Q')).toBe(5);
    expect(await storedRows(accepted.id)).toBe(0);
  });

  it('records in slices of chunks, each slice a fresh job, and keeps going until done', async () => {
    registerImportJobs(ctx.services, { chunkRows: 2, concurrency: 2, sliceMs: 0 });
    try {
      const accepted = await accept(salesCsv('S', 7));
      await ctx.services.queue.drain();
      expect(await importOf(accepted.id)).toMatchObject({ status: 'completed', recorded: 7, failed: 0 });
      expect(await salesCount('S')).toBe(7);
      // 7 rows in chunks of 2 with a slice per chunk: the first job and three continuations.
      const jobs = await ctx.pool.query(`select status from jobs where workspace_id = $1 and payload->>'importId' = $2`, [brand.workspaceId, accepted.id]);
      expect(jobs.rows).toHaveLength(4);
      expect(jobs.rows.every((j) => j.status === 'done')).toBe(true);
    } finally {
      registerImportJobs(ctx.services, DEFAULT_RECORD_OPTIONS);
    }
  });

  it('resumes after a crash from the last checkpoint; rows recorded before the crash are not recorded twice', async () => {
    const accepted = await accept(salesCsv('R', 9));
    // A worker checkpointed the first chunk (rows 1–3) and went on to the next …
    expect(await recordImportSlice(ctx.services, brand.workspaceId, accepted.id, { chunkRows: 3, concurrency: 2, sliceMs: 0 })).toEqual({ kind: 'more', doneSeq: 3 });
    expect(await importOf(accepted.id)).toMatchObject({ status: 'running', recorded: 3 });
    expect(await storedRows(accepted.id)).toBe(6);
    // … recorded rows 4–5 and died before its checkpoint.
    const { rows } = await ctx.pool.query<{ item: ValidatedConversion }>('select item from conversion_import_rows where workspace_id = $1 and import_id = $2 order by seq limit 2', [brand.workspaceId, accepted.id]);
    expect(await recordChunk(ctx.services, brand.workspaceId, rows.map((r) => r.item), 2)).toMatchObject({ recorded: 2, failedRows: 0 });
    expect(await salesCount('R')).toBe(5);
    // The queued job (another node, or this one after a restart) continues from row 4.
    await ctx.services.queue.drain();
    expect(await importOf(accepted.id)).toMatchObject({ status: 'completed', rows: 9, recorded: 9, failed: 0 });
    const sales = await ctx.pool.query<{ invoice_id: string; n: number }>(
      `select invoice_id, count(*)::int as n from sales where workspace_id = $1 and invoice_id like 'R-%' group by invoice_id`,
      [brand.workspaceId],
    );
    expect(sales.rows).toHaveLength(9);
    expect(sales.rows.every((s) => s.n === 1)).toBe(true);
    // A stale worker that finds the import completed does nothing.
    expect(await recordImportSlice(ctx.services, brand.workspaceId, accepted.id, DEFAULT_RECORD_OPTIONS)).toEqual({ kind: 'done' });
  });

  it('with skipBadRows, counts rows refused by validation and by the recording, listing both in row order', async () => {
    // Row 3 passes validation (4 minutes ahead is inside the allowed skew) but is refused when
    // recorded, because by then the clock is earlier: the recording's own checks still apply.
    const soon = new Date(NOW.getTime() + 4 * MINUTE).toISOString();
    const hourAgo = new Date(NOW.getTime() - 60 * MINUTE).toISOString();
    const csv = ['type,externalId,amount,currency,invoiceId,occurredAt', `sale,k-1,100,USD,K-1,${hourAgo}`, `sale,k-2,ten,USD,K-2,${hourAgo}`, `sale,k-3,100,USD,K-3,${soon}`].join('\n');
    const accepted = await accept(csv, '?skipBadRows=true');
    expect(accepted).toMatchObject({ status: 'queued', skipBadRows: true, rows: 3, failed: 1, errors: [{ row: 2, path: 'amount' }] });
    ctx.clock.set(new Date(NOW.getTime() - 10 * MINUTE));
    try {
      await ctx.services.queue.drain();
    } finally {
      ctx.clock.set(NOW);
    }
    const done = await importOf(accepted.id);
    expect(done).toMatchObject({ status: 'completed', rows: 3, recorded: 1, failed: 2 });
    expect(done.errors.map((e: { row: number; path: string }) => [e.row, e.path])).toEqual([
      [2, 'amount'],
      [3, 'occurredAt'],
    ]);
    expect(await salesCount('K')).toBe(1);
  });

  it('marks the import failed when its job gives up, and drops the stored rows', async () => {
    const accepted = await accept(salesCsv('F', 2));
    await ctx.pool.query(`update conversion_import_rows set item = '{"row":1,"type":"sale","body":{}}' where workspace_id = $1 and import_id = $2 and seq = 1`, [brand.workspaceId, accepted.id]);
    await ctx.pool.query(`update jobs set max_attempts = 1 where workspace_id = $1 and payload->>'importId' = $2`, [brand.workspaceId, accepted.id]);
    await ctx.services.queue.drain();
    const failed = await importOf(accepted.id);
    expect(failed).toMatchObject({ status: 'failed', recorded: 0 });
    expect(failed.error).toEqual(expect.any(String));
    expect(failed.finishedAt).not.toBeNull();
    expect(await storedRows(accepted.id)).toBe(0);
    const audit = await ctx.pool.query(`select 1 from audit_log where workspace_id = $1 and action = 'conversions.import_failed' and target_id = $2`, [brand.workspaceId, accepted.id]);
    expect(audit.rowCount).toBe(1);
  });

  it('leaves the import to the new holder when a worker that lost its job\'s lease fails on the last attempt', async () => {
    const accepted = await accept(salesCsv('L', 2));
    await ctx.pool.query(`update conversion_import_rows set item = '{"row":1,"type":"sale","body":{}}' where workspace_id = $1 and import_id = $2 and seq = 1`, [brand.workspaceId, accepted.id]);
    let handler: JobHandler<{ importId: string }> | undefined;
    const capturing = { ...ctx.services, queue: { register: (_queue: string, h: JobHandler<{ importId: string }>) => (handler = h) } } as unknown as Services;
    registerImportJobs(capturing, DEFAULT_RECORD_OPTIONS);
    // The lease lapsed and another worker claimed the job: this worker's signal is aborted.
    const lostLease = { id: 'job_lost', queue: RECORD_QUEUE, workspaceId: brand.workspaceId, payload: { importId: accepted.id }, attempts: 1, maxAttempts: 1, signal: AbortSignal.abort() };
    await expect(handler!(lostLease)).rejects.toThrow();
    expect(await importOf(accepted.id)).toMatchObject({ status: 'running', error: null, finishedAt: null });
    expect(await storedRows(accepted.id)).toBe(2);
    const audit = await ctx.pool.query(`select 1 from audit_log where workspace_id = $1 and action = 'conversions.import_failed' and target_id = $2`, [brand.workspaceId, accepted.id]);
    expect(audit.rowCount).toBe(0);
  });

  it('lists imports newest first, paginated, without the per-row errors', async () => {
    const first = await api('GET', '/api/v1/conversions/imports?limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.data).toHaveLength(2);
    expect(page1.data[0]).not.toHaveProperty('errors');
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await api('GET', `/api/v1/conversions/imports?limit=100&cursor=${page1.nextCursor}`)).json();
    const ids = [...page1.data, ...page2.data].map((i: { id: string }) => i.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(5);
    expect(page2.nextCursor).toBeNull();
    expect((await api('GET', '/api/v1/conversions/imports?cursor=not-a-cursor')).statusCode).toBe(422);
    expect((await api('GET', '/api/v1/conversions/imports?limit=0')).statusCode).toBe(422);
  });

  it('keeps imports to their workspace: another workspace gets 404 and an empty list', async () => {
    const accepted = await accept(salesCsv('T', 1));
    const other = await signupActor(ctx.app);
    const otherApi = asKey(ctx.app, other.apiKey);
    expect((await otherApi('GET', `/api/v1/conversions/imports/${accepted.id}`)).statusCode).toBe(404);
    expect((await otherApi('GET', '/api/v1/conversions/imports')).json()).toEqual({ data: [], nextCursor: null });
    expect((await api('GET', '/api/v1/conversions/imports/imp_00000000000000000000000000')).statusCode).toBe(404);
    await ctx.services.queue.drain();
  });

  it('cancels a queued import: its rows are dropped, its job finds nothing to do, the audit log says who', async () => {
    const accepted = await accept(salesCsv('X', 4));
    const res = await api('POST', `/api/v1/conversions/imports/${accepted.id}/cancel`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: accepted.id, status: 'cancelled', rows: 4, recorded: 0 });
    expect(res.json().finishedAt).not.toBeNull();
    expect(await storedRows(accepted.id)).toBe(0);
    await ctx.services.queue.drain();
    expect(await importOf(accepted.id)).toMatchObject({ status: 'cancelled', recorded: 0 });
    expect(await salesCount('X')).toBe(0);
    const audit = await ctx.pool.query(`select action, actor_kind from audit_log where workspace_id = $1 and target_id = $2`, [brand.workspaceId, accepted.id]);
    expect(audit.rows).toEqual([{ action: 'conversions.import_cancelled', actor_kind: 'api_key' }]);
    // Once closed, it stays closed.
    const again = await api('POST', `/api/v1/conversions/imports/${accepted.id}/cancel`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.details).toEqual([{ path: 'id', message: 'is cancelled' }]);
  });

  it('cancels a running import between chunks: what was recorded stays, the rest is never recorded', async () => {
    const accepted = await accept(salesCsv('Y', 6));
    expect(await recordImportSlice(ctx.services, brand.workspaceId, accepted.id, { chunkRows: 2, concurrency: 1, sliceMs: 0 })).toEqual({ kind: 'more', doneSeq: 2 });
    expect((await api('POST', `/api/v1/conversions/imports/${accepted.id}/cancel`)).json()).toMatchObject({ status: 'cancelled', recorded: 2 });
    expect(await recordImportSlice(ctx.services, brand.workspaceId, accepted.id, { chunkRows: 2, concurrency: 1, sliceMs: 0 })).toEqual({ kind: 'done' });
    await ctx.services.queue.drain();
    expect(await salesCount('Y')).toBe(2);
    expect(await importOf(accepted.id)).toMatchObject({ status: 'cancelled', recorded: 2 });
  });

  it('counts what a chunk recorded while the import was being cancelled', async () => {
    // The first customer exists and is locked by another transaction: the chunk waits on it.
    const customer = await ctx.pool.query<{ id: string }>(
      `insert into customers (workspace_id, id, external_id) values ($1, 'cus_cancel_race', 'V-c0') returning id`,
      [brand.workspaceId],
    );
    expect(customer.rows).toHaveLength(1);
    const accepted = await accept(salesCsv('V', 2));
    const blocker = await ctx.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query(`select 1 from customers where workspace_id = $1 and external_id = 'V-c0' for update`, [brand.workspaceId]);
      const slice = recordImportSlice(ctx.services, brand.workspaceId, accepted.id, { chunkRows: 2, concurrency: 1, sliceMs: 0 });
      // The chunk is under way (waiting for the customer) when the import is cancelled.
      for (let i = 0; i < 100 && (await ctx.pool.query(`select 1 from pg_locks where not granted and locktype = 'transactionid'`)).rowCount === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect((await api('POST', `/api/v1/conversions/imports/${accepted.id}/cancel`)).json()).toMatchObject({ status: 'cancelled', recorded: 0 });
      await blocker.query('commit');
      expect(await slice).toEqual({ kind: 'done' });
    } finally {
      blocker.release();
    }
    expect(await salesCount('V')).toBe(2);
    expect(await importOf(accepted.id)).toMatchObject({ status: 'cancelled', recorded: 2 });
  });

  it('refuses to cancel a completed import (409), an unknown or another workspace\'s one (404), and with a read-only key (403)', async () => {
    const accepted = await accept(salesCsv('Z', 1));
    await ctx.services.queue.drain();
    const done = await api('POST', `/api/v1/conversions/imports/${accepted.id}/cancel`);
    expect(done.statusCode).toBe(409);
    expect(done.json().error.message).toBe('A completed import cannot be cancelled');
    expect((await api('POST', '/api/v1/conversions/imports/imp_00000000000000000000000000/cancel')).statusCode).toBe(404);
    const other = await signupActor(ctx.app);
    const queued = await accept(salesCsv('Z2', 1));
    expect((await asKey(ctx.app, other.apiKey)('POST', `/api/v1/conversions/imports/${queued.id}/cancel`)).statusCode).toBe(404);
    const reader = (await api('POST', '/api/v1/api-keys', { name: 'cancel-reader', scopes: ['read'] })).json().key;
    expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/conversions/imports/${queued.id}/cancel`, headers: { authorization: `Bearer ${reader}` } })).statusCode).toBe(403);
    expect(await importOf(queued.id)).toMatchObject({ status: 'queued' });
    await ctx.services.queue.drain();
  });

  it('needs an API key or session, and the write scope to upload (read is enough to poll)', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/conversions/imports' })).statusCode).toBe(401);
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/conversions/import', headers: { 'content-type': 'text/csv' }, payload: salesCsv('U', 1) });
    expect(res.statusCode).toBe(401);
    // A read-only key may poll imports but not start one.
    const reader = (await api('POST', '/api/v1/api-keys', { name: 'reader', scopes: ['read'] })).json().key;
    const readerHeaders = { authorization: `Bearer ${reader}` };
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/conversions/import', headers: { ...readerHeaders, 'content-type': 'text/csv' }, payload: salesCsv('U', 1) })).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/conversions/imports', headers: readerHeaders })).statusCode).toBe(200);
  });
});
