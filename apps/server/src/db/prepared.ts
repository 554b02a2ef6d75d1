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

/*
 * `begin` and `commit` ride with a transaction's first and last statements. Every round trip costs
 * a socket write that wakes the other process — on a busy 2-core machine that, not the SQL, is
 * most of a statement's price (docs/decisions/0013) — and a commit sent with the last statement
 * also releases the transaction's row locks without waiting for node to answer. Both are named
 * prepared statements, parsed by their first ordinary use on a connection; from then on they are
 * bound and executed in the same message as the statement they ride with, before its Sync.
 */
const BEGIN = { name: 'tdm_begin', text: 'begin' };
const COMMIT = { name: 'tdm_commit', text: 'commit' };

interface ProtocolConnection {
  parsedStatements: Record<string, string>;
  bind(config: { portal: string; statement: string; values: unknown[] }): void;
  execute(config: { portal: string; rows?: number }): void;
  sync(): void;
}
interface QueryInternals {
  handleCommandComplete(msg: unknown, connection: ProtocolConnection): void;
  _getRows(connection: ProtocolConnection, rows?: number): void;
}
const QueryBase = (pg as unknown as { Query: new (config: object) => object }).Query;

/** One parameterised statement with prepared `begin` before it and/or `commit` after it, in one message. */
class StatementWithTransactionEdges extends QueryBase {
  private completions = 0;

  constructor(
    config: { text: string; name?: string; values: unknown[]; callback: (error: Error | null, result?: pg.QueryResult) => void },
    private readonly edges: { begin: boolean; commit: boolean },
  ) {
    super(config);
  }

  /** pg's hook that sends Parse (when needed), Bind, Describe, Execute and Sync: `begin` goes first. */
  prepare(connection: ProtocolConnection): void {
    if (this.edges.begin) {
      connection.bind({ portal: '', statement: BEGIN.name, values: [] });
      connection.execute({ portal: '' });
    }
    (QueryBase.prototype as unknown as { prepare(connection: ProtocolConnection): void }).prepare.call(this, connection);
  }

  /** pg's hook that sends Execute and Sync: `commit` goes between them. */
  _getRows(connection: ProtocolConnection, rows?: number): void {
    const base = QueryBase.prototype as unknown as QueryInternals;
    if (!this.edges.commit) return base._getRows.call(this, connection, rows);
    connection.execute({ portal: '' });
    connection.bind({ portal: '', statement: COMMIT.name, values: [] });
    connection.execute({ portal: '' });
    connection.sync();
  }

  /** The statement's own rows and command tag are the result; `begin`'s and `commit`'s are not. */
  handleCommandComplete(msg: unknown, connection: ProtocolConnection): void {
    const index = this.completions++;
    const statementIndex = this.edges.begin ? 1 : 0;
    if (index !== statementIndex) return;
    (QueryBase.prototype as unknown as QueryInternals).handleCommandComplete.call(this, msg, connection);
  }
}

/** A pg client that names its repeated parameterised statements (see above). */
export class PreparingClient extends pg.Client {
  private prepared = new Set<string>();
  /** `begin` is owed: it goes with the next statement (see `beginWithNextStatement`). */
  private beginOwed = false;

  private get protocol(): ProtocolConnection {
    return (this as unknown as { connection: ProtocolConnection }).connection;
  }

  /** Opens a transaction with the next statement sent on this client instead of a round trip of its own. */
  beginWithNextStatement(): void {
    this.beginOwed = true;
  }

  /** Whether `begin` is still owed (no statement was sent since `beginWithNextStatement`). */
  takeOwedBegin(): boolean {
    const owed = this.beginOwed;
    this.beginOwed = false;
    return owed;
  }

  /**
   * Runs the transaction's last statement and commits it in the same message (falls back to two
   * round trips until this connection has prepared `commit`). If either fails the transaction is
   * left failed or rolled back and the promise rejects; the caller rolls back as usual.
   */
  async queryAndCommit<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    const begin = this.takeOwedBegin();
    const canRide = values.length > 0 && this.protocol.parsedStatements[COMMIT.name] !== undefined && (!begin || this.protocol.parsedStatements[BEGIN.name] !== undefined);
    if (!canRide) {
      if (begin) await baseQuery.call(this, BEGIN);
      const result = (await this.query(text, values)) as pg.QueryResult<R>;
      await baseQuery.call(this, COMMIT);
      return result;
    }
    return this.withEdges<R>(text, values, { begin, commit: true });
  }

  /** Sends `commit` as a prepared statement (so later transactions can send it with their last statement). */
  async commit(): Promise<void> {
    await baseQuery.call(this, COMMIT);
  }

  private withEdges<R extends pg.QueryResultRow>(text: string, values: unknown[], edges: { begin: boolean; commit: boolean }): Promise<pg.QueryResult<R>> {
    const name = this.nameFor(text);
    return new Promise((resolve, reject) => {
      const statement = new StatementWithTransactionEdges(
        { text, ...(name ? { name } : {}), values, callback: (error, result) => (error ? reject(error) : resolve(result as pg.QueryResult<R>)) },
        edges,
      );
      baseQuery.call(this, statement);
    });
  }

  // pg's query() has a dozen overloads; this forwards every form and only rewrites two of them.
  override query = ((...args: unknown[]): unknown => {
    if (this.beginOwed) {
      this.beginOwed = false;
      const [text, values] = args;
      if (typeof text === 'string' && Array.isArray(values) && values.length > 0 && args.length === 2 && this.protocol.parsedStatements[BEGIN.name] !== undefined) {
        return this.withEdges(text, values, { begin: true, commit: false });
      }
      // pg runs queued queries in order, so `begin` needs no await; a failure fails the next one too.
      (baseQuery.call(this, BEGIN) as Promise<unknown>).catch(() => undefined);
    }
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
