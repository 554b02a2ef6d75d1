import type pg from 'pg';
import { PreparingClient } from './prepared.js';

/*
 * Listeners woken after commit. `pg_notify` inside a transaction makes PostgreSQL take one
 * database-wide lock at commit and hold it through the commit's WAL flush, so every transaction
 * that notifies commits one after another: measured on ingest, it was the queue that every sale's
 * commit waited in. Notifying after commit, outside the transaction, keeps commits parallel (a
 * notify-only statement writes no WAL), and a burst of commits needs only one wake-up.
 */
const channelsToWake = new WeakMap<pg.PoolClient, Set<string>>();
const lastWoken = new WeakMap<pg.Pool, Map<string, number>>();

/**
 * A commit within this window of the last wake-up on the same channel sends none: listeners that
 * react to a wake-up later than this (the webhook dispatcher coalesces for 50 ms) see its rows.
 */
export const WAKE_COALESCE_MS = 10;

/**
 * Wakes `channel`'s listeners (an empty notification) once the transaction `client` is in has
 * committed; nothing is sent if it rolls back. Only for transactions run by `withTransaction`.
 * Listeners treat a notification as "look again", never as the data itself.
 */
export function wakeAfterCommit(client: pg.PoolClient, channel: string): void {
  const channels = channelsToWake.get(client);
  if (channels) channels.add(channel);
  else channelsToWake.set(client, new Set([channel]));
}

async function wakeListeners(pool: pg.Pool, client: pg.PoolClient, channels: Set<string>): Promise<void> {
  let sent = lastWoken.get(pool);
  if (!sent) lastWoken.set(pool, (sent = new Map()));
  const now = Date.now();
  for (const channel of channels) {
    const last = sent.get(channel);
    if (last !== undefined && now - last < WAKE_COALESCE_MS && now >= last) continue;
    sent.set(channel, now);
    try {
      await client.query('select pg_notify($1, $2)', [channel, '']);
    } catch {
      // The data is committed; listeners also poll, so a lost wake-up only delays them.
      sent.delete(channel);
    }
  }
}

/** Transactions already committed by their last statement (`queryAndCommit`). */
const committedEarly = new WeakSet<pg.PoolClient>();

/**
 * Runs the last statement of a `withTransaction` transaction and commits it, in one round trip
 * where the connection allows. Nothing may be sent on `client` after it inside `work`.
 */
export async function queryAndCommit<R extends pg.QueryResultRow>(client: pg.PoolClient, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
  let result: pg.QueryResult<R>;
  if (client instanceof PreparingClient) result = await client.queryAndCommit<R>(text, values);
  else {
    result = await client.query<R>(text, values);
    await client.query('commit');
  }
  committedEarly.add(client);
  return result;
}

/**
 * Runs `work` in one transaction on one pooled client: commit on success, rollback on any error.
 * A request that crashes half-way therefore leaves nothing behind. On the pool's own clients
 * `begin` travels with the first statement and (see `queryAndCommit`) `commit` may travel with the
 * last, so a transaction costs no round trip of its own.
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const preparing = client instanceof PreparingClient ? client : null;
  /** Why the rollback failed, if it did: the connection is then discarded, not pooled. */
  let rollbackFailure: Error | undefined;
  try {
    if (preparing) preparing.beginWithNextStatement();
    else await client.query('begin');
    const result = await work(client);
    if (committedEarly.has(client)) committedEarly.delete(client);
    else if (preparing) {
      // Nothing was sent: no transaction was ever opened, so there is nothing to commit.
      if (!preparing.takeOwedBegin()) await preparing.commit();
    } else await client.query('commit');
    const channels = channelsToWake.get(client);
    if (channels) {
      channelsToWake.delete(client);
      await wakeListeners(pool, client, channels);
    }
    return result;
  } catch (error) {
    channelsToWake.delete(client);
    committedEarly.delete(client);
    if (!preparing?.takeOwedBegin()) {
      try {
        await client.query('rollback');
      } catch (failure) {
        rollbackFailure = failure instanceof Error ? failure : new Error(String(failure));
      }
    }
    throw error;
  } finally {
    // A connection whose rollback failed may still be inside this transaction: pooled again, the
    // next borrower's statements would run in it (and commit or vanish with it). Released with an
    // error, pg closes it and the pool opens a fresh one.
    client.release(rollbackFailure);
  }
}

export const isUniqueViolation = (error: unknown, constraint?: string): boolean =>
  typeof error === 'object' &&
  error !== null &&
  (error as { code?: string }).code === '23505' &&
  (constraint === undefined || (error as { constraint?: string }).constraint === constraint);
