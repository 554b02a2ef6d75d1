import type pg from 'pg';

/*
 * `COPY … FROM STDIN` with `pg`, for rows already in COPY's text format. `pg` itself has no COPY
 * support (pg-copy-streams adds a stream API); a batch that is one buffer in memory needs neither
 * a stream nor a dependency: this is a submittable that answers the server's CopyInResponse with
 * the whole buffer as one CopyData message and CopyDone.
 */

/** A query object `pg.Client#query` accepts: it drives the protocol itself. */
class CopyIn {
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (error: Error) => void;
  private settled = false;

  constructor(
    private readonly sql: string,
    private readonly data: Buffer,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: CopyConnection): void {
    connection.query(this.sql);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    if (this.data.length > 0) connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }

  handleError(error: Error): void {
    // Answered at once, as pg's own queries do; the client waits for ReadyForQuery by itself.
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }

  handleReadyForQuery(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve();
  }

  // Messages a COPY FROM never receives, present because the client may call them on any query.
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** Runs `COPY <table> (…) FROM STDIN` with `data` (rows in COPY's text format, UTF-8) as its input; resolves when it has run. */
export function copyFromBuffer(client: pg.ClientBase, sql: string, data: Buffer): Promise<void> {
  const copy = new CopyIn(sql, data);
  (client as unknown as { query(submittable: CopyIn): void }).query(copy);
  return copy.done;
}

const NEEDS_COPY_ESCAPE = /[\\\t\n\r\0]/;
const COPY_ESCAPES = /[\\\t\n\r\0]/g;
// NUL cannot be stored in text at all: it is dropped, as one NUL would otherwise fail the whole batch.
const COPY_ESCAPE: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '' };

/** A value as a field of COPY's text format: `\N` for null, backslash, tab, newline and CR escaped, NUL dropped. */
export function copyField(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return NEEDS_COPY_ESCAPE.test(value) ? value.replace(COPY_ESCAPES, (c) => COPY_ESCAPE[c]!) : value;
}
