import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import { isUniqueViolation } from '../../db/tx.js';
import { copyField, copyFromText } from '../../db/copy.js';

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
  log?: FastifyBaseLogger;
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
 * comparison COPY was not part of).
 *
 * Click ids are made by this process and never repeat, so a batch can only conflict with itself:
 * a retry whose first attempt committed without its acknowledgement arriving. That rare case fails
 * on the primary key and is written by {@link INSERT_BATCH_TOLERANT}, which skips the rows already
 * there and counts only the rest.
 */
const CLICK_COLUMNS = `clicks (workspace_id, link_id, program_id, partner_id, id, created_at, visitor_hash, ip_hash,
                      country, device, browser, os, referrer_host, paid_click_param)`;
const COPY_BATCH = `copy ${CLICK_COLUMNS} from stdin`;
const BATCH_LINKS = `batch_links as (
  select * from unnest($1::text[], $2::text[], $3::text[], $4::text[]) with ordinality as l(workspace_id, link_id, program_id, partner_id, n)
)`;
const ROLLUP_UPSERT = `on conflict (workspace_id, link_id, hour) do update set clicks = click_rollups.clicks + excluded.clicks`;

/** The batch's rollup: parameters 1–4 its links, 5–7 (link ordinal, hour as epoch ms, clicks). */
const ROLLUP_BATCH = `
with ${BATCH_LINKS}
insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks)
select l.workspace_id, l.link_id, 'epoch'::timestamptz + h.hour_ms * interval '1 millisecond', l.program_id, l.partner_id, h.clicks
  from unnest($5::int[], $6::int8[], $7::int[]) as h(link_n, hour_ms, clicks)
  join batch_links l on l.n = h.link_n
${ROLLUP_UPSERT}`;

/** The retry of a batch that may already be stored: only the rows not there yet are inserted and counted. */
const INSERT_BATCH_TOLERANT = `
with ${BATCH_LINKS}, inserted as (
  insert into ${CLICK_COLUMNS}
  select l.workspace_id, l.link_id, l.program_id, l.partner_id, r.id, 'epoch'::timestamptz + r.at_ms * interval '1 millisecond',
         r.visitor_hash, r.ip_hash, r.country, r.device, r.browser, r.os, r.referrer_host, r.paid_click_param
    from unnest($5::int[], $6::uuid[], $7::int8[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                $14::text[], $15::text[])
           as r(link_n, id, at_ms, visitor_hash, ip_hash, country, device, browser, os, referrer_host, paid_click_param)
    join batch_links l on l.n = r.link_n
  on conflict do nothing
  returning workspace_id, link_id, program_id, partner_id, created_at
)
insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks)
select workspace_id, link_id, date_trunc('hour', created_at, 'UTC'), program_id, partner_id, count(*)::int
  from inserted group by 1, 2, 3, 4, 5
${ROLLUP_UPSERT}`;

const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

/**
 * A PostgreSQL array literal of text values (`NULL` for null) in one pass over the strings: pg's
 * generic array serializer runs two regex replaces and several calls per element, which at a
 * thousand rows and eleven columns per batch was a visible share of the redirect's CPU.
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

/** The distinct links of a batch (in first-seen order) and each row's 1-based link ordinal. */
function linksOf(batch: readonly ClickRow[]): { links: ClickRow[]; linkNumbers: number[] } {
  const linkIndex = new Map<string, number>();
  const links: ClickRow[] = [];
  const linkNumbers = new Array<number>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const c = batch[i]!;
    // Link ids are unique across workspaces; the workspace rides along for the composite keys.
    let at = linkIndex.get(c.linkId);
    if (at === undefined) {
      links.push(c);
      at = links.length; // ordinality is 1-based
      linkIndex.set(c.linkId, at);
    }
    linkNumbers[i] = at;
  }
  return { links, linkNumbers };
}

const linkParameters = (links: readonly ClickRow[]) => [
  textArrayLiteral(links.map((l) => l.workspaceId)),
  textArrayLiteral(links.map((l) => l.linkId)),
  textArrayLiteral(links.map((l) => l.programId)),
  textArrayLiteral(links.map((l) => l.partnerId)),
];

/**
 * A batch as COPY text (columns in {@link CLICK_COLUMNS} order) and the parameters of its rollup
 * ({@link ROLLUP_BATCH}). The four columns a click shares with its link are one prefix per link,
 * and a millisecond's ISO time is made once for all its clicks. Exported for tests.
 */
export function copyBatch(batch: readonly ClickRow[]): { text: string; rollup: string[] } {
  const { links, linkNumbers } = linksOf(batch);
  const prefixes = links.map((l) => `${copyField(l.workspaceId)}\t${copyField(l.linkId)}\t${copyField(l.programId)}\t${copyField(l.partnerId)}\t`);
  // Clicks per (link, hour), in first-seen order: the bucket's index in the rollup's arrays.
  const buckets = new Map<string, number>();
  const rollupLinks: number[] = [];
  const rollupHours: number[] = [];
  const rollupClicks: number[] = [];
  let text = '';
  let lastMs = Number.NaN;
  let lastIso = '';
  for (let i = 0; i < batch.length; i++) {
    const c = batch[i]!;
    if (c.atMs !== lastMs) {
      lastMs = c.atMs;
      lastIso = new Date(c.atMs).toISOString();
    }
    const link = linkNumbers[i]!;
    const hour = c.atMs - (c.atMs % HOUR_MS);
    const bucket = `${link}:${hour}`;
    const at = buckets.get(bucket);
    if (at === undefined) {
      buckets.set(bucket, rollupClicks.length);
      rollupLinks.push(link);
      rollupHours.push(hour);
      rollupClicks.push(1);
    } else rollupClicks[at]! += 1;
    text +=
      prefixes[link - 1]! + copyField(c.uuid) + '\t' + lastIso + '\t' + copyField(c.visitorHash) + '\t' + copyField(c.ipHash) + '\t' +
      copyField(c.country) + '\t' + copyField(c.device) + '\t' + copyField(c.browser) + '\t' + copyField(c.os) + '\t' +
      copyField(c.referrerHost) + '\t' + copyField(c.paidClickParam) + '\n';
  }
  return { text, rollup: [...linkParameters(links), `{${rollupLinks.join(',')}}`, `{${rollupHours.join(',')}}`, `{${rollupClicks.join(',')}}`] };
}

/** The parameters of {@link INSERT_BATCH_TOLERANT} for a batch; exported for tests. */
export function batchParameters(batch: readonly ClickRow[]): string[] {
  const { links, linkNumbers } = linksOf(batch);
  const n = batch.length;
  const ids = new Array<string>(n);
  const times = new Array<number>(n);
  const text = Array.from({ length: 8 }, () => new Array<string | null>(n));
  for (let i = 0; i < n; i++) {
    const c = batch[i]!;
    ids[i] = c.uuid;
    times[i] = c.atMs;
    text[0]![i] = c.visitorHash;
    text[1]![i] = c.ipHash;
    text[2]![i] = c.country;
    text[3]![i] = c.device;
    text[4]![i] = c.browser;
    text[5]![i] = c.os;
    text[6]![i] = c.referrerHost;
    text[7]![i] = c.paidClickParam;
  }
  return [
    ...linkParameters(links),
    `{${linkNumbers.join(',')}}`,
    // UUIDs and integers never need quoting.
    `{${ids.join(',')}}`,
    `{${times.join(',')}}`,
    ...text.map(textArrayLiteral),
  ];
}

/**
 * Clicks wait here and are written in batches (every `flushIntervalMs` or every `maxBatch` rows,
 * whichever comes first) by a single writer, off the request path. A failed batch stays at the head
 * of the buffer and is retried; a full buffer makes the redirect wait; `close()` writes everything.
 */
export class ClickBuffer {
  private rows: ClickRow[] = [];
  /** The writer's own connection, with asynchronous commit (see {@link connection}). */
  private client: pg.PoolClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private roomWaiters: (() => void)[] = [];
  private retryDelay: number;
  private closed = false;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly capacity: number;
  private readonly baseRetryDelayMs: number;
  private readonly log: FastifyBaseLogger | undefined;
  private readonly counters = { accepted: 0, written: 0, failedBatches: 0, waits: 0, tolerantRetries: 0 };

  constructor(
    private readonly pool: pg.Pool,
    options: ClickBufferOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.capacity = options.capacity ?? 2 * this.maxBatch;
    this.baseRetryDelayMs = options.retryDelayMs ?? 200;
    this.retryDelay = this.baseRetryDelayMs;
    this.log = options.log;
  }

  stats(): ClickBufferStats {
    return { ...this.counters, buffered: this.rows.length };
  }

  hasRoom(): boolean {
    return this.rows.length < this.capacity;
  }

  /** Resolves when the buffer can take a row again. */
  waitForRoom(): Promise<void> {
    this.counters.waits += 1;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Accepts a click. The caller checks {@link hasRoom} first (and waits for room when full). */
  push(row: ClickRow): void {
    this.rows.push(row);
    this.counters.accepted += 1;
    if (this.rows.length >= this.maxBatch) this.kick(0);
    else if (!this.timer && !this.writing) this.kick(this.flushIntervalMs);
  }

  private kick(delayMs: number): void {
    if (this.writing) return; // the writer looks again when its batch is done
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Failures are logged and the rows kept; this promise itself never rejects.
      this.writing = this.writeBatches()
        .catch(() => undefined)
        .finally(() => {
          this.writing = undefined;
          if (this.rows.length > 0 && !this.closed) this.kick(this.rows.length >= this.maxBatch ? 0 : this.flushIntervalMs);
        });
    }, delayMs);
  }

  /** Writes full batches while there are any, then whatever is left; stops at the first failure. */
  private async writeBatches(): Promise<void> {
    while (this.rows.length > 0) {
      const batch = this.rows.slice(0, this.maxBatch);
      try {
        await this.insert(batch);
      } catch (error) {
        this.counters.failedBatches += 1;
        this.log?.error({ err: error, rows: batch.length, buffered: this.rows.length }, 'click batch failed; keeping it for a retry');
        await new Promise((resolve) => setTimeout(resolve, this.retryDelay).unref());
        this.retryDelay = Math.min(this.retryDelay * 2, 5000);
        if (this.closed) throw error;
        continue;
      }
      this.retryDelay = this.baseRetryDelayMs;
      this.rows.splice(0, batch.length);
      this.counters.written += batch.length;
      this.releaseWaiters();
      // Below a full batch, let more clicks gather (unless closing) rather than writing in dribbles.
      if (this.rows.length < this.maxBatch && !this.closed) return;
    }
  }

  private releaseWaiters(): void {
    // Each released waiter pushes one row: release no more than there is room for (all on close).
    const room = this.closed ? this.roomWaiters.length : this.capacity - this.rows.length;
    for (let i = 0; i < room && this.roomWaiters.length > 0; i++) this.roomWaiters.shift()!();
  }

  private async insert(batch: ClickRow[]): Promise<void> {
    const { text, rollup } = copyBatch(batch);
    const client = await this.connection();
    try {
      try {
        await client.query('begin');
        await copyFromText(client, COPY_BATCH, text);
        await client.query({ name: 'tandem_click_rollup_v1', text: ROLLUP_BATCH, values: rollup });
        await client.query('commit');
      } catch (error) {
        try {
          await client.query('rollback');
        } catch {
          throw error; // the connection is gone: the first error is the one that matters
        }
        if (!isUniqueViolation(error)) throw error;
        // An earlier attempt of this batch committed (its acknowledgement was lost): store the rest.
        this.counters.tolerantRetries += 1;
        await client.query({ name: 'tandem_click_batch_tolerant_v2', text: INSERT_BATCH_TOLERANT, values: batchParameters(batch) });
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
    this.client?.release();
    this.client = undefined;
  }

  /** Writes everything buffered now (waiting for a batch in progress first). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const previouslyClosed = this.closed;
    this.closed = true; // write every remaining row, not only full batches, and fail instead of retrying forever
    try {
      while (this.writing) await this.writing;
      while (this.rows.length > 0) await this.writeBatches();
    } finally {
      this.closed = previouslyClosed;
    }
  }

  /**
   * Graceful shutdown: nothing new is scheduled and every buffered click is written. A database
   * that stays down is retried for `giveUpAfterMs`, then the loss is logged with its size.
   */
  async close(giveUpAfterMs = 30_000): Promise<void> {
    const deadline = Date.now() + giveUpAfterMs;
    for (;;) {
      try {
        await this.flush();
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          this.log?.error({ err: error, lost: this.rows.length }, 'clicks could not be written before shutdown');
          break;
        }
      }
    }
    this.closed = true;
    this.releaseConnection();
    this.releaseWaiters();
  }
}
