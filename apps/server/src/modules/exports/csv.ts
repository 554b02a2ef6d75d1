import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/*
 * Streaming CSV (RFC 4180). Exports read the database in keyset batches and write each batch as it
 * arrives, so a million-row export holds one batch in memory, never the result. Strings that a
 * spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) get a leading `'` —
 * exports contain text partners typed (names, websites), and a CSV must not become an attack on
 * whoever opens it. Numbers are written as they are, so negative amounts stay numbers.
 */
export type CsvValue = string | number | boolean | null | undefined | Date;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = value instanceof Date ? value.toISOString() : value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: CsvValue[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/**
 * Pages through a table by a strictly increasing key: `fetch(after)` returns the next batch after
 * that key (oldest first). Stops at the first short batch.
 */
export async function* keysetBatches<T>(fetch: (after: string | null) => Promise<T[]>, keyOf: (row: T) => string, batchSize: number): AsyncGenerator<T> {
  let after: string | null = null;
  for (;;) {
    const rows = await fetch(after);
    for (const row of rows) yield row;
    if (rows.length < batchSize) return;
    after = keyOf(rows[rows.length - 1]!);
  }
}

async function* csvChunks<T>(header: string[], rows: AsyncIterable<T>, toValues: (row: T) => CsvValue[]): AsyncGenerator<string> {
  yield csvLine(header);
  let chunk = '';
  for await (const row of rows) {
    chunk += csvLine(toValues(row));
    // Fewer, larger writes: one per ~64 KiB rather than one per row.
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Streams a CSV download and resolves when the last byte is written. */
export async function sendCsv<T>(reply: FastifyReply, filename: string, header: string[], rows: AsyncIterable<T>, toValues: (row: T) => CsvValue[]): Promise<void> {
  reply
    .code(200)
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
    .header('cache-control', 'no-store');
  await reply.send(Readable.from(csvChunks(header, rows, toValues)));
}
