import { createHash } from 'node:crypto';
import pg from 'pg';

/*
 * Every parameterised statement the server sends repeatedly becomes a named prepared statement on
 * the connection that sends it, so PostgreSQL parses, analyses and plans it once per connection
 * instead of once per call. Ingest sends ~15 statements per sale, several of them multi-CTE writes
 * whose planning cost more than their execution (docs/decisions/0011-prepared-statements.md).
 *
 * Rules that keep it safe:
 * - only statements with parameters are named (`begin`, `set …`, DDL and migrations stay simple
 *   queries);
 * - a text is named only once it has been seen `PREPARE_AFTER` times in this process, so one-off
 *   statements whose text varies (generated multi-row inserts) never pile up on the server;
 * - each connection holds at most `MAX_PER_CONNECTION` of them; beyond that it falls back to
 *   unnamed statements (nothing breaks, it only loses the saving);
 * - a caller's own `name` is left alone.
 * The name is a digest of the text, so every connection and process agrees on it and a text can
 * never be bound to another statement's name.
 */

const PREPARE_AFTER = 3;
const MAX_PER_CONNECTION = 500;
/** Bound on the texts this process remembers (seen counts and names); cleared when exceeded. */
const MAX_TRACKED_TEXTS = 20_000;

const seen = new Map<string, number>();
const names = new Map<string, string>();

/** The statement name for a text that has earned one, else undefined (and counts the sighting). */
export function statementNameFor(text: string): string | undefined {
  const known = names.get(text);
  if (known) return known;
  const count = (seen.get(text) ?? 0) + 1;
  if (count < PREPARE_AFTER) {
    if (seen.size >= MAX_TRACKED_TEXTS) seen.clear();
    seen.set(text, count);
    return undefined;
  }
  seen.delete(text);
  if (names.size >= MAX_TRACKED_TEXTS) names.clear();
  const name = `tdm_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
  names.set(text, name);
  return name;
}

const baseQuery = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;

/** A pg client that names its repeated parameterised statements (see above). */
export class PreparingClient extends pg.Client {
  private prepared = new Set<string>();

  // pg's query() has a dozen overloads; this forwards every form and only rewrites two of them.
  override query = ((...args: unknown[]): unknown => {
    const [first, second] = args;
    if (typeof first === 'string' && Array.isArray(second) && second.length > 0) {
      const name = this.nameFor(first);
      if (name) return baseQuery.call(this, { name, text: first, values: second }, ...args.slice(2));
    } else if (isUnnamedConfig(first)) {
      const values = first.values ?? (Array.isArray(second) ? second : undefined);
      if (values && values.length > 0) {
        const name = this.nameFor(first.text);
        if (name) return baseQuery.call(this, { ...first, name, values }, ...args.slice(Array.isArray(second) ? 2 : 1));
      }
    }
    return baseQuery.apply(this, args);
  }) as pg.Client['query'];

  private nameFor(text: string): string | undefined {
    const name = statementNameFor(text);
    if (!name) return undefined;
    if (this.prepared.has(name)) return name;
    if (this.prepared.size >= MAX_PER_CONNECTION) return undefined;
    this.prepared.add(name);
    return name;
  }
}

function isUnnamedConfig(value: unknown): value is { text: string; values?: unknown[]; name?: string } {
  if (typeof value !== 'object' || value === null) return false;
  const config = value as { text?: unknown; name?: unknown; submit?: unknown };
  // A Submittable (cursor, stream) manages its own protocol; a named config is the caller's.
  return typeof config.text === 'string' && config.name === undefined && typeof config.submit !== 'function';
}
