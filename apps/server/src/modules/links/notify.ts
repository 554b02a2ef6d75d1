import type pg from 'pg';

/** The channel on which every node hears that a link (by key) changed and drops it from its cache. */
export const LINKS_CHANNEL = 'tandem_links';

/**
 * Tells every node's redirect cache that a link changed. Call it inside the transaction that makes
 * the change: `pg_notify` is delivered only when that transaction commits, so no node reloads the
 * link before the change is visible.
 */
export async function notifyLinkChanged(client: pg.PoolClient | pg.Pool, key: string): Promise<void> {
  await client.query(`select pg_notify('${LINKS_CHANNEL}', $1)`, [key]);
}

/** {@link notifyLinkChanged} for many links in one round trip (one notification each). */
export async function notifyLinksChanged(client: pg.PoolClient | pg.Pool, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await client.query(`select pg_notify('${LINKS_CHANNEL}', k) from unnest($1::text[]) k`, [keys]);
}
