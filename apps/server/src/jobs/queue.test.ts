import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffSeconds, JobQueue } from './queue.js';
import { createTestContext, type TestContext } from '../test/harness.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

const status = async (id: string) =>
  (await ctx.pool.query<{ status: string; attempts: number; last_error: string | null; run_at: Date }>('select status, attempts, last_error, run_at from jobs where id = $1', [id])).rows[0]!;

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

describe('backoffSeconds', () => {
  it('grows exponentially with jitter inside [ceiling/2, ceiling] and caps at an hour', () => {
    expect(backoffSeconds(1, () => 0)).toBe(1);
    expect(backoffSeconds(3, () => 0)).toBe(4);
    expect(backoffSeconds(3, () => 1)).toBe(8);
    expect(backoffSeconds(30, () => 1)).toBe(3600);
  });
});
