import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/harness.js';
import { listenOnChannel } from './listen.js';
import { openPool } from './database.js';
import { WAKE_COALESCE_MS, queryAndCommit, wakeAfterCommit, withTransaction } from './tx.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

const quiet = { warn: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Listens on a fresh channel; `heard` counts its notifications. */
async function listener(): Promise<{ channel: string; heard: () => number; stop: () => Promise<void> }> {
  const channel = `tx_test_${Math.random().toString(36).slice(2)}`;
  let count = 0;
  const stop = await listenOnChannel(ctx.pool.options, channel, { log: quiet, onNotice: () => (count += 1) });
  return { channel, heard: () => count, stop };
}

describe('wake-ups after commit', () => {
  it('are sent only once the transaction has committed, and not for a rollback', async () => {
    const l = await listener();
    try {
      let heardInside = -1;
      await withTransaction(ctx.pool, async (client) => {
        wakeAfterCommit(client, l.channel);
        await client.query('select 1');
        await sleep(100);
        heardInside = l.heard();
      });
      await sleep(WAKE_COALESCE_MS + 100);
      expect(heardInside).toBe(0);
      expect(l.heard()).toBe(1);

      await sleep(WAKE_COALESCE_MS);
      await expect(
        withTransaction(ctx.pool, async (client) => {
          wakeAfterCommit(client, l.channel);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await sleep(100);
      expect(l.heard()).toBe(1);
    } finally {
      await l.stop();
    }
  });

  it('folds commits within the coalescing window into one wake-up, and wakes again after it', async () => {
    const l = await listener();
    try {
      const commitWaking = () =>
        withTransaction(ctx.pool, async (client) => {
          wakeAfterCommit(client, l.channel);
          wakeAfterCommit(client, l.channel); // twice in one transaction is still one
        });
      const started = Date.now();
      await commitWaking();
      await commitWaking();
      const bothWithinWindow = Date.now() - started < WAKE_COALESCE_MS;
      await sleep(WAKE_COALESCE_MS + 100);
      // On a machine too slow to commit twice within the window, the second may send its own.
      if (bothWithinWindow) expect(l.heard()).toBe(1);
      else expect([1, 2]).toContain(l.heard());
      const before = l.heard();
      await commitWaking();
      await sleep(100);
      expect(l.heard()).toBe(before + 1);
    } finally {
      await l.stop();
    }
  });
});

describe('begin and commit riding with statements', () => {
  // One connection, so that after the first transaction `begin` and `commit` are prepared on it
  // and every later transaction sends them with its first and last statements.
  let pool: ReturnType<typeof openPool>;
  /** Round trips on the wire: each Sync (extended protocol) or simple Query message is one. */
  let roundTrips = 0;
  beforeAll(async () => {
    pool = openPool(ctx.databaseUrl, 1);
    pool.on('acquire', (client) => {
      const connection = (client as unknown as { connection: { sync: () => void; query: (text: string) => void; counted?: boolean } }).connection;
      if (connection.counted) return;
      connection.counted = true;
      const sync = connection.sync.bind(connection);
      const simple = connection.query.bind(connection);
      connection.sync = () => {
        roundTrips += 1;
        sync();
      };
      connection.query = (text: string) => {
        roundTrips += 1;
        simple(text);
      };
    });
    await pool.query('create table if not exists tx_edges (id int primary key, note text)');
    await pool.query('create table if not exists tx_edges_deferred (id int, constraint tx_edges_deferred_key unique (id) deferrable initially deferred)');
    // Prepares `begin` and `commit` on the connection.
    for (let i = 0; i < 2; i++) await withTransaction(pool, async (client) => void (await client.query('select $1::int', [i])));
  });
  afterAll(async () => pool?.end());

  const xid = 'select txid_current()::text as xid, $1::int as n';

  it('runs the statements in one transaction and commits with the last one', async () => {
    roundTrips = 0;
    const xids = await withTransaction(pool, async (client) => {
      const first = await client.query<{ xid: string }>(xid, [1]);
      await client.query('insert into tx_edges (id, note) values ($1, $2)', [1, 'kept']);
      const last = await queryAndCommit<{ xid: string }>(client, xid, [2]);
      return [first.rows[0]!.xid, last.rows[0]!.xid];
    });
    expect(xids[0]).toBe(xids[1]);
    expect(roundTrips).toBe(3); // three statements, no begin or commit of their own
    expect((await pool.query('select note from tx_edges where id = 1')).rows).toEqual([{ note: 'kept' }]);
    // The connection is back outside any transaction.
    expect((await pool.query('select txid_current_if_assigned() as xid')).rows[0].xid).toBeNull();
  });

  it('keeps nothing when the last statement fails', async () => {
    await expect(
      withTransaction(pool, async (client) => {
        await client.query('insert into tx_edges (id, note) values ($1, $2)', [2, 'lost']);
        await queryAndCommit(client, 'insert into tx_edges (id, note) values ($1, $2)', [1, 'duplicate key']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await pool.query('select count(*)::int as n from tx_edges where id = 2')).rows[0].n).toBe(0);
    expect((await pool.query('select txid_current_if_assigned() as xid')).rows[0].xid).toBeNull();
  });

  it('keeps nothing and reports the error when the commit itself fails', async () => {
    await expect(
      withTransaction(pool, async (client) => {
        await client.query('insert into tx_edges (id, note) values ($1, $2)', [3, 'lost at commit']);
        // A deferred unique constraint is checked at commit, after the statement succeeded.
        await queryAndCommit(client, 'insert into tx_edges_deferred (id) select $1::int from generate_series(1, 2)', [7]);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await pool.query('select count(*)::int as n from tx_edges where id = 3')).rows[0].n).toBe(0);
    expect((await pool.query('select count(*)::int as n from tx_edges_deferred')).rows[0].n).toBe(0);
    // The connection still works, inside and outside transactions.
    await withTransaction(pool, async (client) => void (await queryAndCommit(client, 'insert into tx_edges (id, note) values ($1, $2)', [4, 'after'])));
    expect((await pool.query('select note from tx_edges where id = 4')).rows).toEqual([{ note: 'after' }]);
  });

  it('sends nothing for a transaction that sends nothing, and rolls back one that throws', async () => {
    roundTrips = 0;
    await withTransaction(pool, async () => undefined);
    expect(roundTrips).toBe(0);
    await expect(
      withTransaction(pool, async (client) => {
        await client.query('insert into tx_edges (id, note) values ($1, $2)', [5, 'rolled back']);
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect((await pool.query('select count(*)::int as n from tx_edges where id = 5')).rows[0].n).toBe(0);
  });
});

describe('a failed rollback', () => {
  it('discards the connection instead of pooling it still inside the transaction', async () => {
    const pool = openPool(ctx.databaseUrl, 1);
    try {
      await expect(
        withTransaction(pool, async (client) => {
          await client.query("set local application_name = 'inside-the-failed-transaction'");
          // The rollback is lost (as on a connection that times out or breaks mid-way): the
          // transaction stays open on this connection.
          const patched = client as unknown as { query: (...args: unknown[]) => Promise<unknown> };
          const query = patched.query;
          patched.query = function (this: unknown, ...args: unknown[]) {
            if (args[0] !== 'rollback') return query.apply(this, args);
            patched.query = query; // once only
            return Promise.reject(new Error('rollback lost'));
          };
          throw new Error('the work failed');
        }),
      ).rejects.toThrow('the work failed');
      // The pool's only connection serves the next statement: it must not be the one left in the transaction.
      const { rows } = await pool.query<{ name: string; open: boolean }>(
        "select current_setting('application_name') as name, xact_start < statement_timestamp() as open from pg_stat_activity where pid = pg_backend_pid()",
      );
      expect(rows[0]).toEqual({ name: expect.not.stringMatching('inside-the-failed-transaction'), open: false });
    } finally {
      await pool.end();
    }
  });
});
