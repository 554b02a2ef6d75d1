import type pg from 'pg';
import { newId } from '@tandem/core';

/**
 * A durable job queue on PostgreSQL (`FOR UPDATE SKIP LOCKED`), the same on the embedded and on an
 * external server. Jobs can be enqueued inside a business transaction (pass its client), so a
 * commission and the job that matures it commit or vanish together. Several nodes may work the
 * queue at once; a job whose worker died is retried when its lock lapses. While a handler runs, its
 * lease is renewed, and every write about a claimed job is fenced by the claim's attempt number, so a
 * worker that lost the job never overwrites the one that took it over.
 * See docs/decisions/0003-job-queue.md for the measurements behind the choice.
 */

export interface Job<P = unknown> {
  id: string;
  queue: string;
  workspaceId: string | null;
  payload: P;
  attempts: number;
  maxAttempts: number;
  /**
   * Aborted when this worker no longer holds the job (another worker re-claimed it after the lease
   * lapsed) or when `stop()` gave up waiting for it. A long handler should check it between steps and
   * stop: whatever it does after that is work someone else may be doing too, and its outcome is
   * discarded. After a shutdown abort, throwing hands the job back: the attempt is not counted.
   */
  signal: AbortSignal;
}

/** A job as the claim returns it, before this worker's lease gives it a signal. */
type ClaimedJob = Omit<Job, 'signal'>;

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

/**
 * Reported through `onError` when a worker finds that a job it was working is no longer its own: the
 * lease lapsed and another worker claimed the job (a claim bumps `attempts`, so the attempt number
 * fences the holder). The job's row is left to the new holder.
 */
export class LeaseLostError extends Error {
  constructor(
    readonly jobId: string,
    readonly attempt: number,
  ) {
    super(`Job ${jobId} (attempt ${attempt}) is no longer held by this worker; its outcome was discarded`);
    this.name = 'LeaseLostError';
  }
}

/** Exponential backoff with full jitter: ~2s, 4s, 8s … capped at one hour. */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(3600, 2 ** Math.max(1, attempt));
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

export class JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Set<Promise<void>>();
  /** The leases of the jobs this queue is working, for stop() to give up those that outlive it. */
  private readonly leases = new Set<JobLease>();
  /** The background loop's current round, which stop() waits for (its claim may be in flight). */
  private tick: Promise<void> | undefined;
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

  /**
   * Stops claiming work and waits (up to `timeoutMs`) for the jobs in flight. Jobs still running when
   * the wait ends are abandoned (see JobLease.abandon: their signal is aborted, their attempt refunded,
   * their lease shortened), and those that end within ABORT_GRACE_MS of the abort are recorded (a
   * job that threw is handed back, due at once). The loop's round in flight is always awaited, even
   * past `timeoutMs`: jobs its claim returns after this call are handed back unrun, and that hand-back
   * must land before the caller closes the pool, or they would sit `running` for a whole lease. A claim
   * is one statement that `pool.end()` would wait for anyway, so this adds no new way to hang.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const jobsDone = (async () => {
      await this.tick; // the round may still start jobs (claimed before stop())
      await Promise.allSettled([...this.running]);
      return true as const;
    })();
    const finished = await Promise.race([jobsDone, delay(timeoutMs, false as const)]);
    if (!finished) {
      await Promise.all([...this.leases].map((lease) => lease.abandon()));
      await Promise.race([Promise.allSettled([...this.running]), delay(ABORT_GRACE_MS, undefined)]);
    }
    await this.tick;
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
        if (!this.stopped && free > 0 && this.handlers.size > 0) {
          const jobs = await this.claim(free);
          // stop() was called while the claim was in flight: starting these now would run them
          // during shutdown, with the pool about to close, and leave them `running` for a whole lease.
          if (this.stopped) {
            await this.unclaim(jobs);
            return;
          }
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
    this.tick = tick();
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

  private async claim(limit: number): Promise<ClaimedJob[]> {
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

  /** Hands claimed jobs back unrun: due again at once, and the claim's attempt does not count. */
  private async unclaim(jobs: ClaimedJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.pool.query(
      `update jobs set status = 'queued', attempts = jobs.attempts - 1, locked_until = null
         from unnest($1::text[], $2::int[]) as claimed(id, attempts)
        where jobs.id = claimed.id and jobs.status = 'running' and jobs.attempts = claimed.attempts`,
      [jobs.map((job) => job.id), jobs.map((job) => job.attempts)],
    );
  }

  private async execute(claimed: ClaimedJob): Promise<void> {
    const lease = new JobLease(this.pool, claimed, this.lockSeconds, (error) => this.options.onError?.(error, job));
    const job: Job = { ...claimed, signal: lease.signal };
    this.leases.add(lease);
    try {
      await this.runAndRecord(job, lease);
    } finally {
      this.leases.delete(lease);
    }
  }

  private async runAndRecord(job: Job, lease: JobLease): Promise<void> {
    lease.keepAlive();
    let failure: { error: unknown } | undefined;
    try {
      const handler = this.handlers.get(job.queue);
      if (!handler) throw new Error(`No handler for queue ${job.queue}`);
      await handler(job);
    } catch (error) {
      failure = { error };
      this.options.onError?.(error, job);
    }
    await lease.release();
    try {
      if (!failure) {
        await lease.settle(`status = 'done', finished_at = now(), locked_until = null`, []);
        return;
      }
      const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
      if (lease.abandoned) {
        // Interrupted by stop(), not failed: abandon() already refunded the attempt. Handed back due
        // at once for the next worker; this worker's handler has ended, so it never runs twice at once.
        await lease.settle(`status = 'queued', last_error = $3, locked_until = null, run_at = now()`, [message.slice(0, 2000)]);
        return;
      }
      const giveUp = job.attempts >= job.maxAttempts;
      await lease.settle(
        `status = $3, last_error = $4, locked_until = null,
         run_at = now() + make_interval(secs => $5), finished_at = case when $3 = 'failed' then now() end`,
        [giveUp ? 'failed' : 'queued', message.slice(0, 2000), backoffSeconds(job.attempts)],
      );
    } catch (error) {
      // The row stays `running`; when the lease lapses the job is claimed and run again.
      this.options.onError?.(error, job);
    }
  }
}

/**
 * The lease left to a job whose handler is still running when stop() stops waiting (at most the
 * configured lease). Neither the full lease nor none: after stop() the server closes the pool and
 * exits, so nobody renews or finishes the job, and a full lease (300 s) would leave it idle that long
 * on every deploy. Handing it back at once instead would let another node start it while this
 * handler, which cannot be cancelled, may still be sending a payout or a webhook in the seconds this
 * process takes to exit. Thirty seconds covers that exit. A handler that ends while the pool is still
 * open records its outcome; one that ends after another node took the job is fenced off by the attempt.
 */
const ABANDONED_LEASE_SECONDS = 30;

/**
 * How long stop() still waits, after aborting the signals of the jobs that outlived its timeout, for
 * cooperative handlers to end, so that their hand-back is written before the pool closes.
 */
const ABORT_GRACE_MS = 1000;

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

/** Renewals per lease: one late or failed renewal still leaves time for the next before the lease lapses. */
const RENEWALS_PER_LEASE = 3;

/**
 * This worker's hold on one claimed job. While the handler runs, `locked_until` is pushed forward a
 * few times per lease, so a job that runs longer than the lease is not taken by another worker as if
 * its worker had died. Every write is fenced by the claim's attempt number (each claim increments
 * `attempts`), so it applies only while this worker still holds the job; finding the job gone is
 * reported once, as a LeaseLostError, and aborts the job's signal.
 */
class JobLease {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private renewal: Promise<void> = Promise.resolve();
  private released = false;
  private lost = false;
  /** Set by abandon(); its write (refund, short lease) lands before any settle. */
  private abandoning: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly job: ClaimedJob,
    private readonly lockSeconds: number,
    private readonly report: (error: unknown) => void,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Renews the lease until `release()`. The timer is unref'd: it never keeps the process alive. */
  keepAlive(): void {
    if (this.released || this.lost) return;
    this.timer = setTimeout(() => {
      this.renewal = this.renew().finally(() => this.keepAlive());
    }, (this.lockSeconds * 1000) / RENEWALS_PER_LEASE);
    this.timer.unref();
  }

  /** Stops renewing; waits for a renewal in flight so that it cannot land after the final write. */
  async release(): Promise<void> {
    this.released = true;
    clearTimeout(this.timer);
    await this.renewal;
  }

  /** Whether stop() gave up on this job (see abandon()). */
  get abandoned(): boolean {
    return this.abandoning !== undefined;
  }

  /**
   * For a handler that outlived stop()'s wait: aborts its signal (a cooperative handler stops and is
   * handed back), stops renewing, shortens the lease to ABANDONED_LEASE_SECONDS and refunds the
   * attempt. A shutdown is not the job failing, so it must not bring the job closer to `failed`.
   * The refund raises `max_attempts` rather than lowering `attempts`: `attempts` is the fencing token,
   * and this handler may still write with it, so it must only ever grow. Whatever happens next (the
   * handler ends and records its outcome, or the process exits and the next claim bumps `attempts`),
   * the job has the attempts left that it had before this one.
   */
  abandon(): Promise<void> {
    this.abandoning ??= (async () => {
      this.controller.abort(new Error('The job queue stopped before this job finished'));
      await this.release();
      if (this.lost) return;
      // No row means the job just ended or was taken over: nothing to shorten or refund, nothing lost.
      const handedBack = `locked_until = least(locked_until, now() + make_interval(secs => $3)), max_attempts = max_attempts + 1`;
      await this.updateIfHeld(handedBack, [ABANDONED_LEASE_SECONDS]).catch(this.report);
    })();
    return this.abandoning;
  }

  /** Writes the job's outcome if this worker still holds it; otherwise reports the lost lease. */
  async settle(assignments: string, values: unknown[]): Promise<void> {
    await this.abandoning; // the refund first: after the outcome, the fenced write would find no row
    if (this.lost) return; // already reported; the row belongs to the new holder
    if (!(await this.updateIfHeld(assignments, values))) this.loseHold();
  }

  private async renew(): Promise<void> {
    try {
      const held = await this.updateIfHeld(`locked_until = now() + make_interval(secs => $3)`, [this.lockSeconds]);
      if (!held) this.loseHold();
    } catch (error) {
      // A failed renewal (the database busy or restarting) is tried again at the next one; if the
      // lease lapses meanwhile, the fenced writes still keep this worker off the new holder's row.
      this.report(error);
    }
  }

  private async updateIfHeld(assignments: string, values: unknown[]): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `update jobs set ${assignments} where id = $1 and status = 'running' and attempts = $2`,
      [this.job.id, this.job.attempts, ...values],
    );
    return rowCount === 1;
  }

  private loseHold(): void {
    if (this.lost) return;
    this.lost = true;
    const error = new LeaseLostError(this.job.id, this.job.attempts);
    this.controller.abort(error);
    this.report(error);
  }
}
