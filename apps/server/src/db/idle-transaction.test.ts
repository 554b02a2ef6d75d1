import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestContext, type TestContext } from '../test/harness.js';
import { startRuntime } from '../server.js';
import { openPool } from './database.js';
import { withTransaction } from './tx.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LOCK = 74_120_001;

describe('a transaction left idle', () => {
  it('is ended by PostgreSQL past the bound, its locks are freed, and the pool carries on', async () => {
    const pool = openPool(ctx.databaseUrl, 2, { idleInTransactionTimeoutMs: 300 });
    try {
      const stuck = withTransaction(pool, async (client) => {
        await client.query('select pg_advisory_xact_lock($1)', [LOCK]);
        // A request stuck between two statements (waiting on something that never answers).
        await sleep(1200);
        await client.query('select 1');
      });
      const outcome = stuck.then(
        () => 'committed',
        (error: Error) => error.message,
      );
      await sleep(900);
      // Long before the stuck work wakes, its lock is gone: PostgreSQL ended the session.
      const { rows } = await ctx.pool.query<{ ok: boolean }>('select pg_try_advisory_xact_lock($1) as ok', [LOCK]);
      expect(rows[0]!.ok).toBe(true);
      // Its next statement fails (pg: "Client has encountered a connection error and is not queryable").
      expect(await outcome).toMatch(/idle-in-transaction timeout|connection/i);
      // The broken connection was thrown away, not pooled: every connection the pool hands out works.
      for (let i = 0; i < 4; i++) {
        const [a, b] = await Promise.all([pool.query('select 1 as n'), pool.query('select 2 as n')]);
        expect([a.rows[0].n, b.rows[0].n]).toEqual([1, 2]);
      }
      // A transaction that is busy, or idle for less than the bound, is left alone.
      await withTransaction(pool, async (client) => {
        await client.query('select pg_sleep(0.5)');
        await sleep(150);
        await client.query('select 1');
      });
    } finally {
      await pool.end();
    }
  });
});

describe('the server pool', () => {
  const dataDir = path.join(os.tmpdir(), `tandem-idle-tx-${process.pid}`);
  afterAll(async () => fs.rm(dataDir, { recursive: true, force: true }));

  async function settingOf(env: Record<string, string>): Promise<string> {
    const runtime = await startRuntime({}, { DATABASE_URL: ctx.databaseUrl, TANDEM_DATA_DIR: dataDir, TANDEM_SECRET: 'test-secret-0123456789abcdef0123456789abcdef', LOG_LEVEL: 'silent', ...env });
    try {
      const { rows } = await runtime.database.pool.query<{ v: string }>('select current_setting($1) as v', ['idle_in_transaction_session_timeout']);
      return rows[0]!.v;
    } finally {
      await runtime.database.close();
    }
  }

  it('bounds idle transactions at 60 s by default, DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS otherwise, and 0 leaves the server setting', async () => {
    expect(await settingOf({})).toBe('1min');
    expect(await settingOf({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: '5' })).toBe('5s');
    expect(await settingOf({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: '0' })).toBe('0');
  });
});
