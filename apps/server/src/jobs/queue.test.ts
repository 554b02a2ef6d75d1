import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffSeconds, JobQueue, LeaseLostError } from './queue.js';
import { createTestContext, type TestContext } from '../test/harness.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

const status = async (id: string) =>
  (
    await ctx.pool.query<{ status: string; attempts: number; last_error: string | null; run_at: Date; locked_until: Date | null }>(
      'select status, attempts, last_error, run_at, locked_until from jobs where id = $1',
      [id],
    )
  ).rows[0]!;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** A gate a handler waits on until the test opens it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** The test pool as the queue sees it, with every statement passed through `send` first. */
function poolSending(send: (sql: string, values: unknown[] | undefined) => Promise<pg.QueryResult>): pg.Pool {
  return { query: send } as unknown as pg.Pool;
}

const isLeaseRenewal = (sql: string) => sql.includes('set locked_until = now() + make_interval');

describe('JobQueue', () => {
  it('runs a job once and marks it done', async () => {
    const queue = new JobQueue(ctx.pool);
    const seen: unknown[] = [];
    queue.register('t.echo', async (job) => {
      seen.push(job.payload);
    });
    const id = (await queue.enqueue('t.echo', { n: 1 }))!;
    expect(await queue.drain()).toBe(1);
    expect(seen).toEqual([{ n: 1 }]);
    expect((await status(id)).status).toBe('done');
    expect(await queue.drain()).toBe(0);
  });

  it('retries a failing job later with backoff, then gives up after maxAttempts', async () => {
    const queue = new JobQueue(ctx.pool);
    queue.register('t.fail', async () => {
      throw new Error('boom');
    });
    const id = (await queue.enqueue('t.fail', {}, { maxAttempts: 2 }))!;
    await queue.drain();
    let s = await status(id);
    expect(s).toMatchObject({ status: 'queued', attempts: 1, last_error: 'boom' });
    expect(s.run_at.getTime()).toBeGreaterThan(Date.now());
    await ctx.pool.query('update jobs set run_at = now() where id = $1', [id]);
    await queue.drain();
    s = await status(id);
    expect(s).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('keeps one queued job per unique key', async () => {
    const queue = new JobQueue(ctx.pool);
    const a = await queue.enqueue('t.unique', {}, { uniqueKey: 'k1', runAt: new Date(Date.now() + 60_000) });
    const b = await queue.enqueue('t.unique', {}, { uniqueKey: 'k1' });
    expect(a).toBeTruthy();
    expect(b).toBeNull();
  });

  it('enqueues inside a transaction: a rollback leaves no job', async () => {
    const queue = new JobQueue(ctx.pool);
    const client = await ctx.pool.connect();
    let id: string | null;
    try {
      await client.query('begin');
      id = await queue.enqueue('t.tx', {}, { client });
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect((await ctx.pool.query('select 1 from jobs where id = $1', [id])).rowCount).toBe(0);
  });

  it('hands each job to exactly one of several workers', async () => {
    const queues = [new JobQueue(ctx.pool, { concurrency: 4 }), new JobQueue(ctx.pool, { concurrency: 4 }), new JobQueue(ctx.pool, { concurrency: 4 })];
    const runs = new Map<string, number>();
    for (const q of queues) q.register('t.race', async (job) => void runs.set(job.id, (runs.get(job.id) ?? 0) + 1));
    for (let i = 0; i < 60; i++) await queues[0]!.enqueue('t.race', { i });
    await Promise.all(queues.map((q) => q.drain()));
    expect(runs.size).toBe(60);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
  });

  it('retakes a job whose worker died (lock lapsed)', async () => {
    const queue = new JobQueue(ctx.pool);
    const id = (await queue.enqueue('t.orphan', {}))!;
    await ctx.pool.query(`update jobs set status = 'running', attempts = 1, locked_until = now() - interval '1 second' where id = $1`, [id]);
    let ran = 0;
    queue.register('t.orphan', async () => void ran++);
    await queue.drain();
    expect(ran).toBe(1);
    expect((await status(id)).status).toBe('done');
  });

  it('fires a schedule once per interval across nodes', async () => {
    const a = new JobQueue(ctx.pool);
    const b = new JobQueue(ctx.pool);
    let ran = 0;
    for (const q of [a, b]) q.register('t.tick', async () => void ran++);
    await a.schedule('t.tick', 't.tick', 3600);
    await b.schedule('t.tick', 't.tick', 3600);
    await Promise.all([a.drain(), b.drain()]);
    await Promise.all([a.drain(), b.drain()]);
    expect(ran).toBe(1);
  });

  it('works in the background and stops gracefully, waiting for the job in flight', async () => {
    const queue = new JobQueue(ctx.pool, { pollIntervalMs: 20 });
    let finished = false;
    queue.register('t.slow', async () => {
      await new Promise((r) => setTimeout(r, 200));
      finished = true;
    });
    queue.start();
    await queue.enqueue('t.slow', {});
    await new Promise((r) => setTimeout(r, 100));
    await queue.stop();
    expect(finished).toBe(true);
  });
});

describe('JobQueue leases', () => {
  it('renews the lease of a job that runs longer than it: the job runs once and ends done', async () => {
    let runs = 0;
    const runLong = async () => {
      runs++;
      await sleep(1800);
    };
    const worker = new JobQueue(ctx.pool, { lockSeconds: 1 });
    const rival = new JobQueue(ctx.pool, { lockSeconds: 1 });
    worker.register('t.long', runLong);
    rival.register('t.long', runLong);
    const id = (await worker.enqueue('t.long'))!;
    let working = true;
    const run = worker.runOnce().finally(() => (working = false));
    // The rival polls all along: without renewals it would take the job once the first lease lapsed.
    while (working) {
      await rival.runOnce();
      await sleep(100);
    }
    await run;
    expect(runs).toBe(1);
    expect(await status(id)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it.each([
    { late: 'succeeds', holderFails: true },
    { late: 'fails', holderFails: false },
  ])('a worker that lost its lease and then $late leaves the new holder its outcome, and reports the lost lease', async ({ late, holderFails }) => {
    const name = `t.lost.${late}`;
    const errors: unknown[] = [];
    const stale = new JobQueue(ctx.pool, { onError: (error) => errors.push(error) });
    const holder = new JobQueue(ctx.pool, { onError: () => undefined });
    const lateFinish = gate();
    stale.register(name, async () => {
      await lateFinish.opened;
      if (late === 'fails') throw new Error('late failure');
    });
    holder.register(name, async () => {
      if (holderFails) throw new Error('holder failure');
    });
    const id = (await stale.enqueue(name, {}, { maxAttempts: 5 }))!;
    const staleRun = stale.runOnce();
    await until(async () => (await status(id)).status === 'running');
    // The stale worker stalls past its lease (a long GC pause, a stuck network): another takes over.
    await ctx.pool.query(`update jobs set locked_until = now() - interval '1 second' where id = $1`, [id]);
    expect(await holder.runOnce()).toBe(1);
    const holdersOutcome = await status(id);
    expect(holdersOutcome).toMatchObject({ status: holderFails ? 'queued' : 'done', attempts: 2 });

    lateFinish.open();
    await staleRun;
    expect(await status(id)).toEqual(holdersOutcome);
    const lost = errors.filter((error) => error instanceof LeaseLostError);
    expect(lost).toEqual([expect.objectContaining({ jobId: id, attempt: 1 })]);
  });

  it('aborts job.signal when a renewal finds that another worker holds the job', async () => {
    const errors: unknown[] = [];
    const queue = new JobQueue(ctx.pool, { lockSeconds: 0.3, onError: (error) => errors.push(error) });
    const started = gate();
    queue.register('t.abortable', (job) => {
      started.open();
      return new Promise((_resolve, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason as Error)));
    });
    const id = (await queue.enqueue('t.abortable'))!;
    let ended = false;
    const run = queue.runOnce().finally(() => (ended = true));
    await started.opened;
    // What another worker's claim does once the lease lapsed: a new attempt, its own lease.
    await ctx.pool.query(`update jobs set attempts = attempts + 1, locked_until = now() + interval '5 minutes' where id = $1`, [id]);
    await Promise.race([run, sleep(2000)]);
    expect(ended).toBe(true);
    expect(errors).toContainEqual(expect.any(LeaseLostError));
    expect(await status(id)).toMatchObject({ status: 'running', attempts: 2 });
  });

  it('stops renewing the lease when the job ends', async () => {
    const errors: unknown[] = [];
    let renewals = 0;
    const pool = poolSending((sql, values) => {
      if (isLeaseRenewal(sql)) renewals++;
      return ctx.pool.query(sql, values);
    });
    const queue = new JobQueue(pool, { lockSeconds: 0.3, onError: (error) => errors.push(error) });
    queue.register('t.renewed', () => sleep(350));
    const id = (await queue.enqueue('t.renewed'))!;
    await queue.runOnce();
    const renewalsWhileRunning = renewals;
    expect(renewalsWhileRunning).toBeGreaterThanOrEqual(2);
    await sleep(400);
    expect(renewals).toBe(renewalsWhileRunning);
    expect(errors).toEqual([]);
    expect((await status(id)).status).toBe('done');
  });
});

describe('JobQueue.stop', () => {
  it('hands back unrun the jobs that a claim in flight returns after stop()', async () => {
    const claimed = gate();
    const claimReturns = gate();
    const pool = poolSending(async (sql, values) => {
      const result = await ctx.pool.query(sql, values);
      if (sql.includes("set status = 'running'")) {
        claimed.open();
        await claimReturns.opened;
      }
      return result;
    });
    const queue = new JobQueue(pool, { pollIntervalMs: 20 });
    let ran = 0;
    queue.register('t.late-claim', async () => {
      ran++;
      await sleep(1000);
    });
    const id = (await queue.enqueue('t.late-claim'))!;
    queue.start();
    await claimed.opened;
    let stopped = false;
    const stopping = queue.stop().then(() => (stopped = true));
    await sleep(50);
    expect(stopped).toBe(false); // it waits for the claim rather than return while jobs may still start
    claimReturns.open();
    await stopping;
    expect(await status(id)).toMatchObject({ status: 'queued', attempts: 0, locked_until: null });
    await sleep(100); // time for a job started behind stop()'s back to show
    expect(ran).toBe(0);
  });

  it('shortens the lease of a job still running when stop() stops waiting, and aborts its signal; a late end still counts', async () => {
    const queue = new JobQueue(ctx.pool, { pollIntervalMs: 20 });
    const started = gate();
    const finish = gate();
    let aborted = false;
    queue.register('t.outlives-stop', async (job) => {
      job.signal.addEventListener('abort', () => (aborted = true));
      started.open();
      await finish.opened; // a handler that does not listen to its signal
    });
    const id = (await queue.enqueue('t.outlives-stop'))!;
    queue.start();
    await started.opened;
    await queue.stop(100);
    expect(aborted).toBe(true);
    const { rows } = await ctx.pool.query<{ left: string }>('select extract(epoch from locked_until - now()) as left from jobs where id = $1', [id]);
    expect(Number(rows[0]!.left)).toBeGreaterThan(0);
    expect(Number(rows[0]!.left)).toBeLessThanOrEqual(30);
    finish.open();
    await until(async () => (await status(id)).status === 'done');
  });
});

describe('JobQueue.stop hands back, not fails', () => {
  const budget = async (id: string) =>
    (await ctx.pool.query<{ left: number }>('select max_attempts - attempts as left from jobs where id = $1', [id])).rows[0]!.left;

  it('a job whose handler stop() aborted keeps its attempt: handed back before stop() returns, due at once, run by the next worker only once the handler ended', async () => {
    const queue = new JobQueue(ctx.pool, { pollIntervalMs: 20, onError: () => undefined });
    const rival = new JobQueue(ctx.pool, { onError: () => undefined });
    const started = gate();
    const aborted = gate();
    let handlerEnded = false;
    // A cooperative handler: on abort it winds down (200 ms) and throws the signal's reason.
    queue.register('t.interrupted', (job) => {
      started.open();
      return new Promise((_resolve, reject) =>
        job.signal.addEventListener('abort', () => {
          aborted.open();
          setTimeout(() => {
            handlerEnded = true;
            reject(job.signal.reason as Error);
          }, 200);
        }),
      );
    });
    let rivalRuns = 0;
    rival.register('t.interrupted', async () => void rivalRuns++);
    // Its last attempt: counted as a failure, an interrupted job would be dead-lettered.
    const id = (await queue.enqueue('t.interrupted', {}, { maxAttempts: 1 }))!;
    queue.start();
    await started.opened;
    const stopping = queue.stop(100);
    await aborted.opened;
    // While the aborted handler winds down, the job is still this worker's: nobody else runs it.
    expect(await rival.runOnce()).toBe(0);
    expect(handlerEnded).toBe(false);
    await stopping;
    const handedBack = await status(id);
    expect(handedBack).toMatchObject({ status: 'queued', attempts: 1, locked_until: null });
    expect(handedBack.run_at.getTime()).toBeLessThanOrEqual(Date.now());
    expect(await budget(id)).toBe(1);
    expect(await rival.runOnce()).toBe(1);
    expect(rivalRuns).toBe(1);
    expect(await status(id)).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('a handler that outlives stop() and the pool leaves the job to the next worker after the short lease, with its attempt budget intact', async () => {
    let closed = false;
    const pool = poolSending((sql, values) => (closed ? Promise.reject(new Error('Cannot use a pool after calling end on the pool')) : ctx.pool.query(sql, values)));
    const queue = new JobQueue(pool, { pollIntervalMs: 20, onError: () => undefined });
    const next = new JobQueue(ctx.pool, { onError: () => undefined });
    const started = gate();
    const finish = gate();
    queue.register('t.deaf', async () => {
      started.open();
      await finish.opened; // does not listen to its signal
    });
    next.register('t.deaf', async () => {
      throw new Error('a real failure');
    });
    const id = (await queue.enqueue('t.deaf', {}, { maxAttempts: 2 }))!;
    queue.start();
    await started.opened;
    await queue.stop(100);
    closed = true; // what server.ts does next: the pool closes and the process exits
    finish.open();
    await sleep(50);
    expect(await status(id)).toMatchObject({ status: 'running', attempts: 1 });
    expect(await budget(id)).toBe(2);
    await ctx.pool.query(`update jobs set locked_until = now() - interval '1 second' where id = $1`, [id]); // the 30 s lease lapsed
    expect(await next.runOnce()).toBe(1);
    // The interrupted attempt did not count: one real failure of two allowed, so it is retried.
    expect(await status(id)).toMatchObject({ status: 'queued', attempts: 2, last_error: 'a real failure' });
    expect(await budget(id)).toBe(1);
  });

  it('waits past its timeout for a claim in flight, so the claimed jobs are handed back before the pool closes', async () => {
    const claimed = gate();
    const claimReturns = gate();
    let closed = false;
    const pool = poolSending(async (sql, values) => {
      if (closed) throw new Error('Cannot use a pool after calling end on the pool');
      const result = await ctx.pool.query(sql, values);
      if (sql.includes("set status = 'running'")) {
        claimed.open();
        await claimReturns.opened; // a claim slower than stop()'s timeout (a busy database)
      }
      return result;
    });
    const queue = new JobQueue(pool, { pollIntervalMs: 20, onError: () => undefined });
    let ran = 0;
    queue.register('t.slow-claim', async () => void ran++);
    const id = (await queue.enqueue('t.slow-claim'))!;
    queue.start();
    await claimed.opened;
    // server.ts closes the pool as soon as stop() returns.
    const stopping = queue.stop(50).then(() => (closed = true));
    await sleep(150);
    claimReturns.open();
    await stopping;
    expect(await status(id)).toMatchObject({ status: 'queued', attempts: 0, locked_until: null });
    expect(ran).toBe(0);
  });
});

describe('backoffSeconds', () => {
  it('grows exponentially with jitter inside [ceiling/2, ceiling] and caps at an hour', () => {
    expect(backoffSeconds(1, () => 0)).toBe(1);
    expect(backoffSeconds(3, () => 0)).toBe(4);
    expect(backoffSeconds(3, () => 1)).toBe(8);
    expect(backoffSeconds(30, () => 1)).toBe(3600);
  });
});
