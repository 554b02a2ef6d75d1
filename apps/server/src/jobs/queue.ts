import type pg from 'pg';
import { newId } from '@tandem/core';

/**
 * A durable job queue on PostgreSQL (`FOR UPDATE SKIP LOCKED`), the same on the embedded and on an
 * external server. Jobs can be enqueued inside a business transaction (pass its client), so a
 * commission and the job that matures it commit or vanish together. Several nodes may work the
 * queue at once; a job whose worker died is retried when its lock lapses.
 * See docs/decisions/0003-job-queue.md for the measurements behind the choice.
 */

export interface Job<P = unknown> {
  id: string;
  queue: string;
  workspaceId: string | null;
  payload: P;
  attempts: number;
  maxAttempts: number;
}

export type JobHandler<P = unknown> = (job: Job<P>) => Promise<void>;

export interface EnqueueOptions {
  workspaceId?: string | null;
  runAt?: Date;
  /** At most one queued or running job per key: enqueueing again is a no-op. */
  uniqueKey?: string;
  maxAttempts?: number;
  /** Enqueue inside the caller's transaction. */
  client?: pg.PoolClient;
}

export interface QueueOptions {
  pollIntervalMs?: number;
  lockSeconds?: number;
  concurrency?: number;
  onError?: (error: unknown, job: Job | undefined) => void;
}

/** Exponential backoff with full jitter: ~2s, 4s, 8s … capped at one hour. */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(3600, 2 ** Math.max(1, attempt));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

export class JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private polling = false;
  private readonly pollIntervalMs: number;
  private readonly lockSeconds: number;
  private readonly concurrency: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: QueueOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.lockSeconds = options.lockSeconds ?? 300;
    this.concurrency = options.concurrency ?? 4;
  }

  async enqueue(queue: string, payload: unknown = {}, options: EnqueueOptions = {}): Promise<string | null> {
    const id = newId('job');
    const runner = options.client ?? this.pool;
    const { rows } = await runner.query<{ id: string }>(
      `insert into jobs (workspace_id, id, queue, payload, run_at, unique_key, max_attempts)
       values ($1, $2, $3, $4, coalesce($5, now()), $6, $7)
       on conflict (unique_key) where unique_key is not null and status in ('queued','running') do nothing
       returning id`,
      [options.workspaceId ?? null, id, queue, JSON.stringify(payload), options.runAt ?? null, options.uniqueKey ?? null, options.maxAttempts ?? 8],
    );
    if (rows[0] && !options.client) this.kick();
    return rows[0]?.id ?? null;
  }

  /** Declares recurring work. Safe to call on every node at every start. */
  async schedule(name: string, queue: string, intervalSeconds: number): Promise<void> {
    await this.pool.query(
      `insert into job_schedules (name, queue, interval_seconds, next_run_at) values ($1, $2, $3, now())
       on conflict (name) do update set queue = excluded.queue, interval_seconds = excluded.interval_seconds`,
      [name, queue, intervalSeconds],
    );
  }

  register<P>(queue: string, handler: JobHandler<P>): void {
    this.handlers.set(queue, handler as JobHandler);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop();
  }

  /** Stops claiming work and waits for jobs in flight (up to `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const all = Promise.allSettled([...this.running]);
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** Runs due schedules and claimable jobs once; returns how many jobs ran. Tests call it directly. */
  async runOnce(): Promise<number> {
    await this.fireSchedules();
    const free = this.concurrency - this.running.size;
    if (free <= 0 || this.handlers.size === 0) return 0;
    const jobs = await this.claim(free);
    const work = jobs.map((job) => this.execute(job));
    await Promise.all(work);
    return jobs.length;
  }

  /** Drains every job that is due now (tests and `tandem` commands). */
  async drain(maxRounds = 100): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      const ran = await this.runOnce();
      total += ran;
      if (ran === 0) break;
    }
    return total;
  }

  private kick(): void {
    if (this.stopped || this.polling) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.loop(), 0);
  }

  private loop(): void {
    if (this.stopped) return;
    this.polling = true;
    const tick = async () => {
      try {
        await this.fireSchedules();
        const free = this.concurrency - this.running.size;
        if (free > 0 && this.handlers.size > 0) {
          const jobs = await this.claim(free);
          for (const job of jobs) {
            const p = this.execute(job).finally(() => {
              this.running.delete(p);
              this.kick();
            });
            this.running.add(p);
          }
        }
      } catch (error) {
        this.options.onError?.(error, undefined);
      } finally {
        this.polling = false;
        if (!this.stopped) {
          this.timer = setTimeout(() => this.loop(), this.pollIntervalMs);
          this.timer.unref();
        }
      }
    };
    void tick();
  }

  private async fireSchedules(): Promise<void> {
    await this.pool.query(
      `with due as (
         update job_schedules set next_run_at = now() + make_interval(secs => interval_seconds)
          where next_run_at <= now()
          returning name, queue)
       insert into jobs (id, queue, payload, unique_key)
       select 'job_' || md5(random()::text || name || clock_timestamp()::text), queue, '{}'::jsonb, 'schedule:' || name from due
       on conflict (unique_key) where unique_key is not null and status in ('queued','running') do nothing`,
    );
  }

  private async claim(limit: number): Promise<Job[]> {
    const { rows } = await this.pool.query<{
      id: string; queue: string; workspace_id: string | null; payload: unknown; attempts: number; max_attempts: number;
    }>(
      `update jobs set status = 'running', attempts = attempts + 1, locked_until = now() + make_interval(secs => $3)
        where id in (
          select id from jobs
           where queue = any($1)
             and ((status = 'queued' and run_at <= now()) or (status = 'running' and locked_until < now()))
           order by run_at
           limit $2
           for update skip locked)
        returning id, queue, workspace_id, payload, attempts, max_attempts`,
      [[...this.handlers.keys()], limit, this.lockSeconds],
    );
    return rows.map((r) => ({ id: r.id, queue: r.queue, workspaceId: r.workspace_id, payload: r.payload, attempts: r.attempts, maxAttempts: r.max_attempts }));
  }

  private async execute(job: Job): Promise<void> {
    const handler = this.handlers.get(job.queue);
    try {
      if (!handler) throw new Error(`No handler for queue ${job.queue}`);
      await handler(job);
      await this.pool.query(`update jobs set status = 'done', finished_at = now(), locked_until = null where id = $1`, [job.id]);
    } catch (error) {
      this.options.onError?.(error, job);
      const message = error instanceof Error ? error.message : String(error);
      const giveUp = job.attempts >= job.maxAttempts;
      await this.pool
        .query(
          `update jobs set status = $2, last_error = $3, locked_until = null,
                  run_at = now() + make_interval(secs => $4), finished_at = case when $2 = 'failed' then now() end
            where id = $1`,
          [job.id, giveUp ? 'failed' : 'queued', message.slice(0, 2000), backoffSeconds(job.attempts)],
        )
        .catch((e: unknown) => this.options.onError?.(e, job));
    }
  }
}
