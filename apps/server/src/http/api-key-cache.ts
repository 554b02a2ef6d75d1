import type pg from 'pg';
import type { Scope } from '@tandem/contracts';
import { listenOnChannel } from '../db/listen.js';

const TTL_MS = 60_000;
const MAX_KEYS = 10_000;

/** The channel on which a revoked key's id is announced to every node. */
export const API_KEYS_CHANNEL = 'tandem_api_keys';

export interface ApiKeyRow {
  workspace_id: string;
  id: string;
  scopes: Scope[];
  revoked_at: Date | null;
}

/**
 * Valid API keys by hash, so a burst of API calls (ingest sends hundreds per second) does not pay a
 * database round trip each. One per node (it lives in Services).
 *
 * Revocation stays immediate everywhere: revoking a key sends `pg_notify('tandem_api_keys', id)` in
 * the revoking statement and every node's listener (started by {@link watch}) forgets the key. The
 * cache is used only while that listener is connected — before it starts, while it reconnects, and
 * after it stops every call asks the database — and it is emptied whenever the listener (re)connects,
 * since revocations announced while it was deaf are unknown. Entries also expire after `TTL_MS`.
 * Unknown and revoked keys always ask the database.
 */
export class ApiKeyCache {
  private readonly keys = new Map<string, { row: ApiKeyRow; until: number }>();
  private listening = false;
  /**
   * Moves on at every revocation heard and every (re)connect of the listener: a lookup whose query
   * was in flight meanwhile may have read the key before it was revoked, so it must not cache it.
   */
  private generation = 0;

  constructor(private readonly pool: pg.Pool) {}

  async lookUp(keyHash: string): Promise<ApiKeyRow | undefined> {
    const now = Date.now();
    const cached = this.listening ? this.keys.get(keyHash) : undefined;
    if (cached && cached.until > now) return cached.row;
    const generation = this.generation;
    const { rows } = await this.pool.query<ApiKeyRow>('select workspace_id, id, scopes, revoked_at from api_keys where key_hash = $1', [keyHash]);
    const row = rows[0];
    if (row && !row.revoked_at && this.listening && generation === this.generation) {
      if (this.keys.size >= MAX_KEYS) this.keys.clear();
      this.keys.set(keyHash, { row, until: now + TTL_MS });
    } else this.keys.delete(keyHash);
    return row;
  }

  /** Drops a key (by id) from this node's cache. */
  forget(keyId: string): void {
    this.generation += 1;
    for (const [hash, entry] of this.keys) if (entry.row.id === keyId) this.keys.delete(hash);
  }

  /** Hears revocations from every node; returns the function that stops it. */
  watch(log: { warn(obj: unknown, message: string): void }): Promise<() => Promise<void>> {
    const setListening = (now: boolean) => {
      this.listening = now;
      this.generation += 1;
      this.keys.clear();
    };
    return listenOnChannel(this.pool.options, API_KEYS_CHANNEL, {
      log,
      onNotice: (keyId) => this.forget(keyId),
      onListening: () => setListening(true),
      onDeaf: () => setListening(false),
    });
  }
}
