import type pg from 'pg';
import { prepareDestination, type PreparedDestination } from '@tandem/core';
import type { FastifyBaseLogger } from 'fastify';
import { LINKS_CHANNEL } from './notify.js';

/** What the redirect needs to know about a live link, held in memory. */
export interface CachedLink {
  workspaceId: string;
  linkId: string;
  programId: string;
  partnerId: string;
  destination: PreparedDestination;
  /** The program's attribution window, the click cookie's lifetime. */
  cookieMaxAgeSeconds: number;
}

export interface LinkCacheOptions {
  /** How long an unknown (or archived) key is remembered as such. */
  negativeTtlMs?: number;
  /** The periodic safety net for a lost notification: links or programs changed since the last poll. */
  pollIntervalMs?: number;
  maxEntries?: number;
  maxNegativeEntries?: number;
  log?: FastifyBaseLogger;
}

interface Missing {
  missingUntil: number;
}

const LINK_BY_KEY = `
  select l.workspace_id, l.id, l.program_id, l.partner_id, l.destination_url, l.archived_at, p.attribution_window_days
    from links l join programs p on p.workspace_id = l.workspace_id and p.id = l.program_id
   where l.key = $1`;

/**
 * Links by key in process memory so that the redirect never waits on the database for a known
 * key. A miss loads the key once (concurrent misses share the load); unknown keys are remembered
 * briefly so a scan of random keys cannot turn into a query per request. Every node LISTENs on
 * `tandem_links` and drops a key the moment a transaction that changed it commits; a poll of
 * recently updated links and programs catches anything a dropped connection missed.
 */
export class LinkCache {
  private readonly links = new Map<string, CachedLink>();
  private readonly missing = new Map<string, Missing>();
  private readonly loading = new Map<string, Promise<CachedLink | null>>();
  /** Bumped by every invalidation: a load that raced one must not store what it read. */
  private generation = 0;
  private listener: pg.PoolClient | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastPollAt: Date | undefined;
  private stopped = false;
  private readonly negativeTtlMs: number;
  private readonly pollIntervalMs: number;
  private readonly maxEntries: number;
  private readonly maxNegativeEntries: number;
  private readonly log: FastifyBaseLogger | undefined;
  /** Database loads, for tests and metrics: a cached key must never cause one. */
  loads = 0;
  /** Change notifications received. */
  notifications = 0;

  constructor(
    private readonly pool: pg.Pool,
    options: LinkCacheOptions = {},
  ) {
    this.negativeTtlMs = options.negativeTtlMs ?? 10_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 500_000;
    this.maxNegativeEntries = options.maxNegativeEntries ?? 50_000;
    this.log = options.log;
  }

  /** The cached answer: a link, `null` (known to be unknown) or `undefined` (not in memory; call {@link load}). */
  peek(key: string): CachedLink | null | undefined {
    const link = this.links.get(key);
    if (link) return link;
    const missing = this.missing.get(key);
    if (missing && missing.missingUntil > Date.now()) return null;
    return undefined;
  }

  /** Loads a key from the database (once for concurrent callers) and caches the answer. */
  load(key: string): Promise<CachedLink | null> {
    let pending = this.loading.get(key);
    if (!pending) {
      const started: Promise<CachedLink | null> = this.fetch(key).finally(() => {
        // Only its own entry: an invalidation may have replaced it with a newer load.
        if (this.loading.get(key) === started) this.loading.delete(key);
      });
      pending = started;
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async fetch(key: string): Promise<CachedLink | null> {
    const generation = this.generation;
    this.loads += 1;
    const { rows } = await this.pool.query<{
      workspace_id: string;
      id: string;
      program_id: string;
      partner_id: string;
      destination_url: string;
      archived_at: Date | null;
      attribution_window_days: number;
    }>(LINK_BY_KEY, [key]);
    const row = rows[0];
    const link: CachedLink | null =
      row && !row.archived_at
        ? {
            workspaceId: row.workspace_id,
            linkId: row.id,
            programId: row.program_id,
            partnerId: row.partner_id,
            destination: prepareDestination(row.destination_url),
            cookieMaxAgeSeconds: row.attribution_window_days * 86_400,
          }
        : null;
    if (generation === this.generation && !this.stopped) this.store(key, link);
    return link;
  }

  private store(key: string, link: CachedLink | null): void {
    if (link) {
      if (this.links.size >= this.maxEntries) this.links.delete(this.links.keys().next().value as string);
      this.links.set(key, link);
      this.missing.delete(key);
    } else {
      // A flood of random keys resets the negative cache rather than growing it without bound.
      if (this.missing.size >= this.maxNegativeEntries) this.missing.clear();
      this.missing.set(key, { missingUntil: Date.now() + this.negativeTtlMs });
    }
  }

  invalidate(key: string): void {
    this.generation += 1;
    this.links.delete(key);
    this.missing.delete(key);
    // A load under way may have read the row before the change: later requests start a new one.
    this.loading.delete(key);
  }

  invalidateAll(): void {
    this.generation += 1;
    this.links.clear();
    this.missing.clear();
    this.loading.clear();
  }

  /** Starts listening for changes and polling as the safety net. */
  async start(): Promise<void> {
    await this.listen();
    this.lastPollAt = await this.databaseNow();
    this.pollTimer = setInterval(
      () => void this.poll().catch((error: unknown) => this.log?.warn({ err: error }, 'link cache poll failed')),
      this.pollIntervalMs,
    );
    this.pollTimer.unref();
  }

  private async databaseNow(): Promise<Date> {
    const { rows } = await this.pool.query<{ now: Date }>('select now() as now');
    return rows[0]!.now;
  }

  private async listen(): Promise<void> {
    // A dedicated connection: LISTEN belongs to a session, and a pooled client would be reused.
    const client = await this.pool.connect();
    client.on('notification', (message) => {
      if (message.channel !== LINKS_CHANNEL || !message.payload) return;
      this.notifications += 1;
      this.invalidate(message.payload);
    });
    client.on('error', (error) => {
      // Only the connection still in use is ours to give back: after stop() released it, an error
      // (the database shutting down) must not release it twice, which throws and kills the process.
      if (this.listener !== client) return;
      this.log?.warn({ err: error }, 'link cache lost its LISTEN connection; reconnecting');
      this.listener = undefined;
      client.release(error);
      this.scheduleReconnect();
    });
    try {
      await client.query(`listen ${LINKS_CHANNEL}`);
    } catch (error) {
      client.release(true);
      throw error;
    }
    this.listener = client;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.listen()
        .then(() => this.invalidateAll()) // changes made while deaf are unknown: start afresh
        .catch(() => this.scheduleReconnect());
    }, 1000);
    this.reconnectTimer.unref();
  }

  /**
   * Drops the keys of links and programs updated since the previous poll. The window overlaps by a
   * minute because `updated_at` is a transaction's start time, which can precede a slow commit.
   */
  async poll(): Promise<number> {
    const since = this.lastPollAt ?? new Date(0);
    const now = await this.databaseNow();
    const { rows } = await this.pool.query<{ key: string }>(
      `select l.key from links l where l.updated_at > $1::timestamptz - interval '1 minute'
       union
       select l.key from programs p join links l on l.workspace_id = p.workspace_id and l.program_id = p.id
        where p.updated_at > $1::timestamptz - interval '1 minute'`,
      [since],
    );
    for (const { key } of rows) this.invalidate(key);
    this.lastPollAt = now;
    return rows.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = undefined;
    if (client) {
      await client.query(`unlisten ${LINKS_CHANNEL}`).catch(() => undefined);
      // Destroyed, not returned: a session that listened is not handed to other work.
      client.release(true);
    }
  }
}
