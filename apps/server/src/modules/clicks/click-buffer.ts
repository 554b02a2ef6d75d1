import pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import { isUniqueViolation } from '../../db/tx.js';
import { copyField, copyFromBuffer } from '../../db/copy.js';

/** One click as the redirect records it (no raw IP: only keyed hashes). */
export interface ClickRow {
  workspaceId: string;
  /** UUIDv7: time-ordered, so each batch appends to the primary-key index. */
  uuid: string;
  linkId: string;
  programId: string;
  partnerId: string;
  atMs: number;
  visitorHash: string;
  ipHash: string;
  country: string | null;
  device: string | null;
  browser: string | null;
  os: string | null;
  referrerHost: string | null;
  paidClickParam: string | null;
}

export interface ClickBufferOptions {
  /** Rows per INSERT. */
  maxBatch?: number;
  /** The longest a click waits in memory before its batch is written. */
  flushIntervalMs?: number;
  /**
   * Rows held at most; beyond it the redirect waits for room (back-pressure) instead of dropping.
   * Two batches by default — one committing, one filling — which is also all a `kill -9` can lose:
   * a deeper buffer would only hide a database that cannot keep up, and lose more when killed.
   */
  capacity?: number;
  /** First retry delay after a failed batch (doubling up to 5 s). */
  retryDelayMs?: number;
  /**
   * The longest a click waits for room (default 10 s). Past it the wait fails — the redirect answers
   * 503 — so that while the database takes no clicks, requests and their connections are let go
   * instead of piling up without end.
   */
  roomWaitMs?: number;
  log?: FastifyBaseLogger;
}

/** A click buffer that stayed full for `roomWaitMs`: the database is not taking clicks. */
export class ClickBufferFull extends Error {
  constructor(waitedMs: number) {
    super(`the click buffer stayed full for ${waitedMs} ms: the database is not taking clicks`);
  }
}

export interface ClickBufferStats {
  /** Clicks accepted from the redirect. */
  accepted: number;
  /** Clicks in memory, not yet committed. */
  buffered: number;
  /** Clicks committed to the database. */
  written: number;
  /** Batches that failed (and were kept for a retry). */
  failedBatches: number;
  /** Times a redirect had to wait for room. */
  waits: number;
  /** Batches found partly or wholly stored already (a retry after a lost acknowledgement). */
  tolerantRetries: number;
}

/*
 * A batch is one transaction: `COPY clicks FROM STDIN` with the rows in COPY's text format, then
 * the batch's per-link-per-hour counts (added up in node) upserted into `click_rollups`, so the
 * clicks and their rollup commit together. COPY inserts a page's worth of rows per heap WAL record
 * and parses plain text, where `INSERT … SELECT FROM unnest(…)` wrote a record per row and parsed
 * eleven array literals: PostgreSQL's CPU per click fell by a third (6.3–8.4 → 3.9–5.2 µs in an
 * A/B of 1,000-row batches; the 1.8× over multi-row VALUES that made unnest the first choice is a
 * comparison COPY was not part of). Binary COPY was measured too and was slower (150,000 rows:
 * 1.61–1.65 s against 1.32–1.39 s in text).
 *
 * Each click is encoded into its batch's bytes as it is pushed, not kept as an object until the
 * batch is written: a thousand or two buffered click objects (and their strings) survived every
 * young-generation collection of the redirect's process and were copied by each one, which made
 * those collections a few milliseconds long; bytes outside the JavaScript heap are not copied.
 *
 * Click ids are made by this process and never repeat, so a batch can only conflict with itself:
 * a retry whose first attempt committed without its acknowledgement arriving. That rare case fails
 * on the primary key and is written through a temporary table ({@link INSERT_RETRIED}), which skips
 * the rows already there and counts only the rest.
 */
const CLICK_COLUMN_LIST = `workspace_id, link_id, program_id, partner_id, id, created_at, visitor_hash, ip_hash,
                      country, device, browser, os, referrer_host, paid_click_param`;
const COPY_BATCH = `copy clicks (${CLICK_COLUMN_LIST}) from stdin`;
const ROLLUP_UPSERT = `on conflict (workspace_id, link_id, hour) do update set clicks = click_rollups.clicks + excluded.clicks`;

/**
 * The batch's rollup, with its values inline: one element per link and hour in each array literal
 * (workspace, link, program, partner, hour as epoch ms, clicks; see {@link batchStatement}).
 */
const ROLLUP_BATCH = (p: readonly string[]) => `
insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks)
select workspace_id, link_id, 'epoch'::timestamptz + hour_ms * interval '1 millisecond', program_id, partner_id, clicks
  from unnest(${p[0]}::text[], ${p[1]}::text[], ${p[2]}::text[], ${p[3]}::text[], ${p[4]}::int8[], ${p[5]}::int[])
         as b(workspace_id, link_id, program_id, partner_id, hour_ms, clicks)
${ROLLUP_UPSERT}`;

/** A string as an SQL literal, whatever `standard_conforming_strings` says. */

/**
 * A whole batch as one simple-protocol query: `begin`, the COPY (whose rows follow as CopyData),
 * the rollup and `commit`. One round trip instead of four: each one waited for the redirect's busy
 * event loop to read PostgreSQL's answer and send the next statement, so a 1,000-row batch took
 * 20–38 ms to commit while its PostgreSQL work was ~8 ms, and the buffer filled up behind it —
 * every such moment made all 64 connections of the benchmark wait for room (64–192 waits a second;
 * per 10 s run, alternating: 646, 990, 683 waits before, 121, 64, 58 after). The rollup's values are inline (the simple protocol has no parameters): array literals of ids
 * and numbers, quoted by `pg.escapeLiteral`; the plan is small and made once per batch.
 */
const batchStatement = (batch: PendingBatch) => `begin; ${COPY_BATCH}; ${ROLLUP_BATCH(batch.rollupParameters().map((value) => pg.escapeLiteral(value)))}; commit`;

/** The retry of a batch that may already be stored: its rows go to a session's temporary table first. */
const CREATE_RETRY_TABLE = 'create temporary table if not exists tandem_click_retry (like clicks) on commit delete rows';
const COPY_RETRY = `copy tandem_click_retry (${CLICK_COLUMN_LIST}) from stdin`;
/**
 * Only the rows not stored yet are inserted, and only they are counted in the rollup: one row per
 * link and hour, as the upsert requires (a link's program and partner never change, but a batch
 * whose rows disagreed must not fail on every retry).
 */
const INSERT_RETRIED = `
with inserted as (
  insert into clicks (${CLICK_COLUMN_LIST})
  select ${CLICK_COLUMN_LIST} from tandem_click_retry
  on conflict do nothing
  returning workspace_id, link_id, program_id, partner_id, created_at
)
insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks)
select workspace_id, link_id, date_trunc('hour', created_at, 'UTC'), min(program_id), min(partner_id), count(*)::int
  from inserted group by 1, 2, 3
${ROLLUP_UPSERT}`;

const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

/**
 * A PostgreSQL array literal of text values (`NULL` for null) in one pass over the strings: pg's
 * generic array serializer runs two regex replaces and several calls per element.
 */
export function textArrayLiteral(values: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    out += v === null || v === undefined ? 'NULL' : '"' + (NEEDS_ESCAPE.test(v) ? v.replace(ESCAPED, '\\$&') : v) + '"';
  }
  return out + '}';
}

const HOUR_MS = 3_600_000;

/** A link's four leading COPY fields, and what they were made from. */
interface LinkPrefix {
  workspaceId: string;
  programId: string;
  partnerId: string;
  text: string;
}

/** Clicks of one link in one hour, within a batch. */
interface RollupBucket {
  workspaceId: string;
  linkId: string;
  programId: string;
  partnerId: string;
  hourMs: number;
  clicks: number;
}

/** Bytes a click usually takes in COPY text (ids, hashes, a time and a few short names). */
const TYPICAL_ROW_BYTES = 320;

/** A batch being filled or written: its rows already in COPY's text format, and its rollup counts. */
class PendingBatch {
  length = 0;
  count = 0;
  /** Keyed by link id and hour. */
  readonly buckets = new Map<string, RollupBucket>();

  constructor(public bytes: Buffer) {}

  append(line: string): void {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    if (this.length + line.length * 3 > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.length + line.length * 3));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    this.length += this.bytes.write(line, this.length, 'utf8');
  }

  /** Counts a click appended to the batch, in its rollup bucket too. */
  countClick(row: ClickRow): void {
    this.count += 1;
    const hourMs = row.atMs - (row.atMs % HOUR_MS);
    const key = row.linkId + ' ' + hourMs;
    const bucket = this.buckets.get(key);
    if (bucket) bucket.clicks += 1;
    else this.buckets.set(key, { workspaceId: row.workspaceId, linkId: row.linkId, programId: row.programId, partnerId: row.partnerId, hourMs, clicks: 1 });
  }

  data(): Buffer {
    return this.bytes.subarray(0, this.length);
  }

  /** The values of {@link ROLLUP_BATCH}, as array literals. */
  rollupParameters(): string[] {
    const buckets = [...this.buckets.values()];
    return [
      textArrayLiteral(buckets.map((b) => b.workspaceId)),
      textArrayLiteral(buckets.map((b) => b.linkId)),
      textArrayLiteral(buckets.map((b) => b.programId)),
      textArrayLiteral(buckets.map((b) => b.partnerId)),
      // Numbers never need quoting.
      `{${buckets.map((b) => b.hourMs).join(',')}}`,
      `{${buckets.map((b) => b.clicks).join(',')}}`,
    ];
  }
}

/** Links whose prefixes are kept; beyond it the map starts again (a flood of links must not grow it). */
const MAX_PREFIXES = 10_000;
/** Spare batch buffers kept for reuse (one committing, one filling, one more). */
const MAX_SPARE_BUFFERS = 3;

/**
 * Clicks wait here and are written in batches (every `flushIntervalMs` or every `maxBatch` rows,
 * whichever comes first) by a single writer, off the request path. A failed batch stays at the head
 * of the buffer and is retried; a full buffer makes the redirect wait; `close()` writes everything.
 */
export class ClickBuffer {
  /** Batches waiting to be written, oldest first; the last may still be filling (see {@link filling}). */
  private batches: PendingBatch[] = [];
  /** The batch new clicks go to, until it is full or the writer takes it. */
  private filling: PendingBatch | undefined;
  private spareBuffers: Buffer[] = [];
  private prefixes = new Map<string, LinkPrefix>();
  private lastMs = Number.NaN;
  private lastIso = '';
  /** The writer's own connection, with asynchronous commit (see {@link connection}). */
  private client: pg.PoolClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private roomWaiters: { resolve: () => void; timer: NodeJS.Timeout }[] = [];
  private retryDelay: number;
  /** close() has begun: no writer is started by the timer any more. */
  private closed = false;
  /** A flush (or close) is writing every remaining row and fails instead of retrying forever. */
  private draining = false;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly capacity: number;
  /** A new batch buffer's size: room for a full batch of typical rows. */
  private readonly batchBytes: number;
  private readonly baseRetryDelayMs: number;
  private readonly roomWaitMs: number;
  private readonly log: FastifyBaseLogger | undefined;
  private readonly counters = { accepted: 0, written: 0, failedBatches: 0, waits: 0, tolerantRetries: 0 };

  constructor(
    private readonly pool: pg.Pool,
    options: ClickBufferOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.capacity = options.capacity ?? 2 * this.maxBatch;
    this.batchBytes = Math.max(16 * 1024, this.maxBatch * TYPICAL_ROW_BYTES);
    this.baseRetryDelayMs = options.retryDelayMs ?? 200;
    this.retryDelay = this.baseRetryDelayMs;
    this.roomWaitMs = options.roomWaitMs ?? 10_000;
    this.log = options.log;
  }

  /** Clicks in `batches`: accepted and not yet written. */
  private get buffered(): number {
    return this.counters.accepted - this.counters.written;
  }

  stats(): ClickBufferStats {
    return { ...this.counters, buffered: this.buffered };
  }

  hasRoom(): boolean {
    return this.buffered < this.capacity;
  }

  /** Resolves when the buffer can take a row again; rejects with {@link ClickBufferFull} after `roomWaitMs`. */
  waitForRoom(): Promise<void> {
    this.counters.waits += 1;
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        timer: setTimeout(() => {
          const at = this.roomWaiters.indexOf(waiter);
          if (at >= 0) this.roomWaiters.splice(at, 1);
          reject(new ClickBufferFull(this.roomWaitMs));
        }, this.roomWaitMs),
      };
      this.roomWaiters.push(waiter);
    });
  }

  /** Accepts a click. The caller checks {@link hasRoom} first (and waits for room when full). */
  push(row: ClickRow): void {
    let batch = this.filling;
    if (!batch || batch.count >= this.maxBatch) {
      batch = new PendingBatch(this.spareBuffers.pop() ?? Buffer.allocUnsafeSlow(this.batchBytes));
      this.filling = batch;
      this.batches.push(batch);
    }
    if (row.atMs !== this.lastMs) {
      this.lastMs = row.atMs;
      this.lastIso = new Date(row.atMs).toISOString();
    }
    batch.append(
      this.prefixOf(row) + copyField(row.uuid) + '\t' + this.lastIso + '\t' + copyField(row.visitorHash) + '\t' + copyField(row.ipHash) + '\t' +
        copyField(row.country) + '\t' + copyField(row.device) + '\t' + copyField(row.browser) + '\t' + copyField(row.os) + '\t' +
        copyField(row.referrerHost) + '\t' + copyField(row.paidClickParam) + '\n',
    );
    batch.countClick(row);
    this.counters.accepted += 1;
    if (batch.count >= this.maxBatch) this.kick(0);
    else if (!this.timer && !this.writing) this.kick(this.flushIntervalMs);
  }

  /** The four COPY fields a click shares with its link (columns in {@link CLICK_COLUMN_LIST} order), made once per link. */
  private prefixOf(row: ClickRow): string {
    const known = this.prefixes.get(row.linkId);
    if (known && known.workspaceId === row.workspaceId && known.programId === row.programId && known.partnerId === row.partnerId) return known.text;
    if (this.prefixes.size >= MAX_PREFIXES) this.prefixes.clear();
    const text = `${copyField(row.workspaceId)}\t${copyField(row.linkId)}\t${copyField(row.programId)}\t${copyField(row.partnerId)}\t`;
    this.prefixes.set(row.linkId, { workspaceId: row.workspaceId, programId: row.programId, partnerId: row.partnerId, text });
    return text;
  }

  private kick(delayMs: number): void {
    if (this.writing) return; // the writer looks again when its batch is done
    if (this.closed) return; // close() writes what it can itself; nothing starts after it
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.writing) return;
      // Failures are logged and the rows kept; this promise itself never rejects.
      this.writing = this.writeBatches()
        .catch(() => undefined)
        .finally(() => {
          this.writing = undefined;
          if (this.buffered > 0) this.kick(this.buffered >= this.maxBatch ? 0 : this.flushIntervalMs);
        });
    }, delayMs);
  }

  /** Writes full batches while there are any, then whatever is left; stops at the first failure. */
  private async writeBatches(): Promise<void> {
    while (this.batches.length > 0) {
      const batch = this.batches[0]!;
      // Taken as it is: later clicks start the next batch.
      if (batch === this.filling) this.filling = undefined;
      try {
        await this.insert(batch);
      } catch (error) {
        this.counters.failedBatches += 1;
        this.log?.error({ err: error, rows: batch.count, buffered: this.buffered }, 'click batch failed; keeping it for a retry');
        await new Promise((resolve) => setTimeout(resolve, this.retryDelay).unref());
        this.retryDelay = Math.min(this.retryDelay * 2, 5000);
        if (this.draining) throw error;
        continue;
      }
      this.retryDelay = this.baseRetryDelayMs;
      this.batches.shift();
      this.counters.written += batch.count;
      // A buffer that grew for unusually long rows is let go rather than kept.
      if (this.spareBuffers.length < MAX_SPARE_BUFFERS && batch.bytes.length === this.batchBytes) this.spareBuffers.push(batch.bytes);
      this.releaseWaiters();
      // Below a full batch, let more clicks gather (unless draining) rather than writing in dribbles.
      if (this.buffered < this.maxBatch && !this.draining) return;
    }
  }

  private releaseWaiters(): void {
    // Each released waiter pushes one row: release no more than there is room for (all on close).
    const room = this.closed || this.draining ? this.roomWaiters.length : this.capacity - this.buffered;
    for (let i = 0; i < room && this.roomWaiters.length > 0; i++) {
      const waiter = this.roomWaiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  private async insert(batch: PendingBatch): Promise<void> {
    const client = await this.connection();
    try {
      try {
        await copyFromBuffer(client, batchStatement(batch), batch.data());
      } catch (error) {
        // Any other error throws the connection away below, with its aborted transaction.
        if (!isUniqueViolation(error)) throw error;
        // An earlier attempt of this batch committed (its acknowledgement was lost): store the rest.
        await client.query('rollback');
        this.counters.tolerantRetries += 1;
        await client.query('begin');
        await client.query(CREATE_RETRY_TABLE);
        await copyFromBuffer(client, COPY_RETRY, batch.data());
        await client.query(INSERT_RETRIED);
        await client.query('commit');
      }
    } catch (error) {
      // A broken connection is thrown away; a statement error leaves a healthy one, but a fresh
      // connection costs little and keeps the rule simple.
      // (A connection lost between batches surfaces here too: the pool's clients always have an
      // error listener, db/database.ts.)
      this.client = undefined;
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  /**
   * Batches commit asynchronously (`synchronous_commit = off`, on this session only): the commit no
   * longer waits for the WAL flush, which on a busy disk is most of a batch's time. The trade:
   * if PostgreSQL itself crashes, the clicks of the last fraction of a second may be lost — clicks,
   * never conversions, which keep synchronous commits. A crash of Tandem loses nothing committed.
   */
  private async connection(): Promise<pg.PoolClient> {
    if (this.client) return this.client;
    const client = await this.pool.connect();
    try {
      await client.query('set synchronous_commit = off');
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    this.client = client;
    return client;
  }

  private releaseConnection(): void {
    // Not back to the pool: the session has asynchronous commit (and maybe the retry table).
    this.client?.release(true);
    this.client = undefined;
  }

  /** Writes everything buffered now (waiting for a batch in progress first). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const wasDraining = this.draining;
    this.draining = true;
    try {
      for (;;) {
        while (this.writing) await this.writing;
        if (this.buffered === 0) break;
        // Flushing holds the writer's slot: a click pushed meanwhile must not start a second writer,
        // which would take the same batch (written twice, and the one after it dropped).
        const writing = this.writeBatches();
        this.writing = writing;
        try {
          await writing;
        } finally {
          if (this.writing === writing) this.writing = undefined;
        }
      }
    } finally {
      this.draining = wasDraining;
      // Rows left by a failure (or pushed at the very end) are the timer's again.
      if (this.buffered > 0 && !this.draining) this.kick(this.flushIntervalMs);
    }
  }

  /**
   * Graceful shutdown: nothing new is scheduled and every buffered click is written. A database
   * that stays down is retried for `giveUpAfterMs`, then the loss is logged with its size.
   */
  async close(giveUpAfterMs = 30_000): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + giveUpAfterMs;
    for (;;) {
      try {
        await this.flush();
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          this.log?.error({ err: error, lost: this.buffered }, 'clicks could not be written before shutdown');
          break;
        }
      }
    }
    this.releaseConnection();
    this.releaseWaiters();
  }
}
