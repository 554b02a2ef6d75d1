import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import fc from 'fast-check';
import { uuidv7 } from '@tandem/core';
import { createTestContext, type TestContext } from '../../test/harness.js';
import { ClickBuffer, ClickBufferFull, textArrayLiteral, type ClickRow } from './click-buffer.js';

/** A stand-in pool that records each batch (the rows of its COPY) and fails or stalls on demand. */
function fakePool(behaviour: { failTimes?: number; gate?: Promise<void> } = {}) {
  const batches: number[] = [];
  let failures = behaviour.failTimes ?? 0;
  const settings: string[] = [];
  const client = {
    async query(q: string | { name?: string; values?: string[] } | CopySubmittable) {
      if (typeof q === 'string') {
        if (q.startsWith('set ')) settings.push(q);
        return { rows: [] };
      }
      if (!('submit' in q)) return { rows: [] }; // the rollup
      if (behaviour.gate) await behaviour.gate;
      if (failures > 0) {
        failures -= 1;
        q.handleError(new Error('connection refused'));
        return q;
      }
      let data = '';
      q.handleCopyInResponse({ query() {}, sendCopyFromChunk: (chunk: Buffer) => (data += chunk.toString()), endCopyFrom() {} });
      const rows = data.split('\n').length - 1;
      batches.push(rows);
      q.handleCommandComplete({ text: `COPY ${rows}` });
      q.handleReadyForQuery();
      return q;
    },
    release() {},
  };
  const pool = { connect: async () => client };
  return { pool: pool as unknown as pg.Pool, batches, settings };
}

interface CopySubmittable {
  submit: unknown;
  handleCopyInResponse(connection: { query(): void; sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }): void;
  handleCommandComplete(message: { text: string }): void;
  handleReadyForQuery(): void;
  handleError(error: Error): void;
}

const click = (i: number): ClickRow => ({
  workspaceId: 'ws_1',
  uuid: uuidv7(1_700_000_000_000 + i),
  linkId: 'lnk_1',
  programId: 'prg_1',
  partnerId: 'ptn_1',
  atMs: 1_700_000_000_000 + i,
  visitorHash: `v${i}`,
  ipHash: `i${i}`,
  country: null,
  device: 'desktop',
  browser: 'Chrome',
  os: 'Linux',
  referrerHost: null,
  paidClickParam: null,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ClickBuffer', () => {
  it('writes in batches of at most maxBatch rows', async () => {
    const { pool, batches, settings } = fakePool();
    const buffer = new ClickBuffer(pool, { maxBatch: 3, flushIntervalMs: 60_000 });
    for (let i = 0; i < 7; i++) buffer.push(click(i));
    await buffer.flush();
    expect(batches).toEqual([3, 3, 1]);
    expect(settings).toEqual(['set synchronous_commit = off']);
    expect(buffer.stats()).toMatchObject({ accepted: 7, written: 7, buffered: 0 });
  });

  it('writes a partial batch once flushIntervalMs has passed', async () => {
    const { pool, batches } = fakePool();
    const buffer = new ClickBuffer(pool, { maxBatch: 1000, flushIntervalMs: 20 });
    buffer.push(click(1));
    buffer.push(click(2));
    expect(batches).toEqual([]);
    await sleep(80);
    expect(batches).toEqual([2]);
    await buffer.close();
  });

  it('writes a full batch without waiting for the timer', async () => {
    const { pool, batches } = fakePool();
    const buffer = new ClickBuffer(pool, { maxBatch: 2, flushIntervalMs: 60_000 });
    buffer.push(click(1));
    buffer.push(click(2));
    await sleep(20);
    expect(batches).toEqual([2]);
    await buffer.close();
  });

  it('applies back-pressure when full instead of dropping', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { pool, batches } = fakePool({ gate });
    const buffer = new ClickBuffer(pool, { maxBatch: 2, flushIntervalMs: 60_000, capacity: 2 });
    buffer.push(click(1));
    buffer.push(click(2));
    expect(buffer.hasRoom()).toBe(false);
    let roomMade = false;
    const waiting = buffer.waitForRoom().then(() => (roomMade = true));
    await sleep(20);
    expect(roomMade).toBe(false); // the database is still writing the first batch
    open();
    await waiting;
    expect(roomMade).toBe(true);
    expect(batches).toEqual([2]);
    expect(buffer.stats().waits).toBe(1);
    await buffer.close();
  });

  it('gives up waiting for room after roomWaitMs, so a database that takes no clicks does not hold requests for ever', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { pool, batches } = fakePool({ gate });
    const buffer = new ClickBuffer(pool, { maxBatch: 2, flushIntervalMs: 60_000, capacity: 2, roomWaitMs: 50 });
    buffer.push(click(1));
    buffer.push(click(2));
    await expect(buffer.waitForRoom()).rejects.toBeInstanceOf(ClickBufferFull);
    // A waiter that gave up is gone: room made later goes to the next one.
    open();
    await buffer.waitForRoom();
    expect(batches).toEqual([2]);
    await buffer.close();
  });

  it('keeps one writer while flushing: clicks pushed during a flush are written once, none dropped', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { pool, batches } = fakePool({ gate });
    const buffer = new ClickBuffer(pool, { maxBatch: 2, flushIntervalMs: 1, capacity: 100 });
    for (let i = 0; i < 5; i++) buffer.push(click(i));
    const flushed = buffer.flush();
    await sleep(5);
    // Each push may kick the writer; a second one would take the batch the flush is writing.
    for (let i = 5; i < 15; i++) buffer.push(click(i));
    await sleep(5);
    open();
    await flushed;
    await buffer.close();
    expect(batches.reduce((sum, n) => sum + n, 0)).toBe(15);
    expect(buffer.stats()).toMatchObject({ accepted: 15, written: 15, buffered: 0 });
  });

  it('keeps a failed batch and retries it until it is written', async () => {
    const { pool, batches } = fakePool({ failTimes: 2 });
    const buffer = new ClickBuffer(pool, { maxBatch: 10, flushIntervalMs: 5, retryDelayMs: 5 });
    for (let i = 0; i < 4; i++) buffer.push(click(i));
    await sleep(150);
    expect(batches).toEqual([4]);
    expect(buffer.stats()).toMatchObject({ written: 4, failedBatches: 2, buffered: 0 });
    await buffer.close();
  });

  it('on close with the database down, retries until its deadline and keeps counting the rows as unwritten', async () => {
    const { pool } = fakePool({ failTimes: 1_000 });
    const buffer = new ClickBuffer(pool, { maxBatch: 10, flushIntervalMs: 60_000, retryDelayMs: 5 });
    buffer.push(click(1));
    await buffer.close(50);
    expect(buffer.stats()).toMatchObject({ written: 0, buffered: 1 });
    expect(buffer.stats().failedBatches).toBeGreaterThan(1);
  });

  it('starts nothing after close gave up: no writer takes a connection once shutdown is over', async () => {
    const { pool } = fakePool({ failTimes: 1_000 });
    let connects = 0;
    const connect = pool.connect.bind(pool);
    (pool as unknown as { connect: () => Promise<unknown> }).connect = () => ((connects += 1), connect());
    const buffer = new ClickBuffer(pool, { maxBatch: 10, flushIntervalMs: 20, retryDelayMs: 5 });
    buffer.push(click(1));
    await buffer.close(40);
    const atClose = connects;
    buffer.push(click(2)); // a late redirect
    await sleep(150);
    expect(connects).toBe(atClose);
    expect(buffer.stats().buffered).toBe(2);
  });
});

describe('the batch statement on PostgreSQL', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => ctx?.close());

  it('a batch retried after its commit was acknowledged too late is stored and counted once, with its new rows', async () => {
    const at = Date.UTC(2026, 4, 1, 9, 30);
    const rows = [0, 1, 2, 3, 4].map((i) => ({ ...click(i), atMs: at + i }));
    const first = new ClickBuffer(ctx.pool, { flushIntervalMs: 60_000 });
    for (const row of rows.slice(0, 3)) first.push(row);
    await first.close();
    // The same three again (as after a lost acknowledgement), now with two clicks that came since.
    const retry = new ClickBuffer(ctx.pool, { flushIntervalMs: 60_000 });
    for (const row of rows) retry.push(row);
    await retry.close();
    expect(retry.stats()).toMatchObject({ written: 5, failedBatches: 0, tolerantRetries: 1 });
    const stored = await ctx.pool.query<{ n: number }>('select count(*)::int as n from clicks where link_id = $1', ['lnk_1']);
    expect(stored.rows[0]!.n).toBe(5);
    const rollups = await ctx.pool.query('select hour, clicks from click_rollups where link_id = $1', ['lnk_1']);
    expect(rollups.rows).toEqual([{ hour: new Date('2026-05-01T09:00:00Z'), clicks: 5 }]);
  });

  it('round-trips any text through the array literal, NULLs included', async () => {
    const values = ['plain', 'Mobile Safari', 'a,b', '{braces}', 'quote " and \\ backslash', '', 'NULL', 'ünïcödé ✓', null, ' padded '];
    const { rows } = await ctx.pool.query<{ v: (string | null)[] }>('select $1::text[] as v', [textArrayLiteral(values)]);
    expect(rows[0]!.v).toEqual(values);
    // Arbitrary strings (NUL is the one character PostgreSQL text cannot hold), checked by PostgreSQL itself.
    const sample = fc.sample(fc.array(fc.option(fc.string({ unit: 'binary' }).map((s) => s.replace(/\0/g, '')), { nil: null })), 30);
    for (const xs of sample) {
      const res = await ctx.pool.query<{ v: (string | null)[] }>('select $1::text[] as v', [textArrayLiteral(xs)]);
      expect(res.rows[0]!.v).toEqual(xs);
    }
  });

  it('survives losing its connection between batches: the next batch opens a new one', async () => {
    const buffer = new ClickBuffer(ctx.pool, { flushIntervalMs: 60_000 });
    try {
      buffer.push({ ...click(900), linkId: 'lnk_lost' });
      await buffer.flush();
      // The writer keeps its connection between batches (a private field, read here only).
      const writerPid = (buffer as unknown as { client: { processID: number } }).client.processID;
      await ctx.pool.query('select pg_terminate_backend($1)', [writerPid]);
      await new Promise((r) => setTimeout(r, 200)); // the 'error' event arrives (an uncaught one would fail the run; db/database.ts)
      buffer.push({ ...click(901), linkId: 'lnk_lost' });
    } finally {
      await buffer.close(5_000);
    }
    expect(buffer.stats()).toMatchObject({ written: 2, buffered: 0 });
    const stored = await ctx.pool.query<{ n: number }>(`select count(*)::int as n from clicks where link_id = 'lnk_lost'`);
    expect(stored.rows[0]!.n).toBe(2);
  });

  it('round-trips any text through COPY, escapes and NULLs included', async () => {
    const texts = fc.sample(fc.option(fc.string({ unit: 'binary' }).map((s) => s.replace(/\0/g, '')), { nil: null }), 40);
    texts.push('tab\there', 'new\nline', 'cr\rhere', 'back\\slash', '\\N', 'ünïcödé ✓', 'nul\0byte');
    const rows: ClickRow[] = texts.map((t, i) => ({ ...click(i), linkId: `lnk_copy\t${i % 3}`, referrerHost: t, paidClickParam: t, os: t }));
    const buffer = new ClickBuffer(ctx.pool, { flushIntervalMs: 60_000 });
    for (const row of rows) buffer.push(row);
    await buffer.close();
    const stored = await ctx.pool.query<{ id: string; link_id: string; referrer_host: string | null; os: string | null }>(
      `select id, link_id, referrer_host, os from clicks where link_id like 'lnk_copy%' order by id`,
    );
    // Text cannot hold NUL: it is dropped rather than failing the batch.
    const stripped = (v: string | null) => v?.replace(/\0/g, '') ?? null;
    expect(stored.rows).toEqual(rows.map((r) => ({ id: r.uuid, link_id: r.linkId, referrer_host: stripped(r.referrerHost), os: stripped(r.os) })));
  });

  it('grows a batch buffer for rows longer than it, escapes included', async () => {
    // 16 KiB of buffer for one-row batches: these rows take up to ~60 KiB each in COPY text.
    const long = ['a'.repeat(20_000), 'é'.repeat(20_000), 'tab\t'.repeat(5_000), 'x'.repeat(30_000) + '\\'];
    const rows: ClickRow[] = long.map((t, i) => ({ ...click(200 + i), linkId: 'lnk_long', referrerHost: t, os: i % 2 ? null : t }));
    const buffer = new ClickBuffer(ctx.pool, { flushIntervalMs: 60_000, maxBatch: 2 });
    for (const row of rows) buffer.push(row);
    await buffer.close();
    const stored = await ctx.pool.query<{ id: string; referrer_host: string; os: string | null }>(`select id, referrer_host, os from clicks where link_id = 'lnk_long' order by id`);
    expect(stored.rows).toEqual(rows.map((r) => ({ id: r.uuid, referrer_host: r.referrerHost, os: r.os })));
  });

  it('counts rollups of ids holding quotes, backslashes and dollars (the rollup is inline SQL)', async () => {
    const links = [`lnk_o'brien`, 'lnk_back\\slash', 'lnk_"quoted"', 'lnk_$$dollar$$', `lnk_E'\\'`];
    const buffer = new ClickBuffer(ctx.pool, { flushIntervalMs: 60_000 });
    links.forEach((linkId, i) => {
      buffer.push({ ...click(2 * i), linkId, partnerId: `ptn_${linkId}` });
      buffer.push({ ...click(2 * i + 1), linkId, partnerId: `ptn_${linkId}` });
    });
    await buffer.close();
    expect(buffer.stats()).toMatchObject({ written: 10, failedBatches: 0 });
    const rollups = await ctx.pool.query<{ link_id: string; partner_id: string; clicks: number }>(
      'select link_id, partner_id, clicks from click_rollups where link_id = any($1) order by link_id',
      [links],
    );
    expect(rollups.rows).toEqual([...links].sort().map((linkId) => ({ link_id: linkId, partner_id: `ptn_${linkId}`, clicks: 2 })));
  });

  it('writes clicks of several links and workspaces with their exact times and rollups', async () => {
    const rows: ClickRow[] = [0, 1, 2, 3, 4].map((i) => ({
      ...click(i),
      workspaceId: i % 2 ? 'ws_b' : 'ws_a',
      linkId: i % 2 ? 'lnk_b' : 'lnk_a',
      programId: i % 2 ? 'prg_b' : 'prg_a',
      partnerId: i % 2 ? 'ptn_b' : 'ptn_a',
      atMs: Date.UTC(2026, 2, 10, 11, 59, 59, 998) + i, // straddles an hour
      referrerHost: i === 3 ? 'we"ird\\host' : null,
    }));
    const buffer = new ClickBuffer(ctx.pool, { flushIntervalMs: 60_000 });
    for (const row of rows) buffer.push(row);
    await buffer.close();
    const stored = await ctx.pool.query<{ workspace_id: string; id: string; link_id: string; program_id: string; partner_id: string; created_at: Date; referrer_host: string | null }>(
      `select workspace_id, id, link_id, program_id, partner_id, created_at, referrer_host from clicks where link_id in ('lnk_a', 'lnk_b') order by id`,
    );
    expect(stored.rows).toEqual(
      rows.map((r) => ({
        workspace_id: r.workspaceId,
        id: r.uuid,
        link_id: r.linkId,
        program_id: r.programId,
        partner_id: r.partnerId,
        created_at: new Date(r.atMs),
        referrer_host: r.referrerHost,
      })),
    );
    const rollups = await ctx.pool.query(`select link_id, hour, clicks from click_rollups where link_id in ('lnk_a', 'lnk_b') order by link_id, hour`);
    expect(rollups.rows).toEqual([
      { link_id: 'lnk_a', hour: new Date('2026-03-10T11:00:00Z'), clicks: 1 },
      { link_id: 'lnk_a', hour: new Date('2026-03-10T12:00:00Z'), clicks: 2 },
      { link_id: 'lnk_b', hour: new Date('2026-03-10T11:00:00Z'), clicks: 1 },
      { link_id: 'lnk_b', hour: new Date('2026-03-10T12:00:00Z'), clicks: 1 },
    ]);
  });
});
