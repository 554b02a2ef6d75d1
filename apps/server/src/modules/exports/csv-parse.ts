import type { Readable } from 'node:stream';

/**
 * An incremental RFC 4180 reader: feed it chunks as they arrive, get complete records back. Quoted
 * fields may hold commas, doubled quotes and line breaks, and may span chunk boundaries; CRLF and
 * LF both end a record. Memory is one partial record, whatever the file size.
 */
export class CsvReader {
  private field = '';
  private record: string[] = [];
  private quoted = false;
  /** The previous character closed a quoted section; a `"` now is an escaped quote. */
  private quoteClosed = false;
  private fieldStarted = false;

  push(chunk: string): string[][] {
    const records: string[][] = [];
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (this.quoted) {
        if (ch === '"') {
          this.quoted = false;
          this.quoteClosed = true;
        } else this.field += ch;
        continue;
      }
      if (ch === '"') {
        if (this.quoteClosed) this.field += '"';
        this.quoted = true;
        this.quoteClosed = false;
        this.fieldStarted = true;
        continue;
      }
      this.quoteClosed = false;
      if (ch === ',') {
        this.endField();
      } else if (ch === '\n') {
        const done = this.endRecord();
        if (done) records.push(done);
      } else if (ch === '\r') {
        // Part of CRLF; a lone CR is ignored.
      } else {
        this.field += ch;
        this.fieldStarted = true;
      }
    }
    return records;
  }

  /** The last record when the input does not end with a line break. */
  end(): string[][] {
    const done = this.endRecord();
    return done ? [done] : [];
  }

  private endField(): void {
    this.record.push(this.field);
    this.field = '';
    this.fieldStarted = false;
  }

  private endRecord(): string[] | null {
    const blank = this.record.length === 0 && !this.fieldStarted && this.field === '';
    this.endField();
    const done = this.record;
    this.record = [];
    this.quoteClosed = false;
    return blank ? null : done;
  }
}

/** Records of a CSV stream, one at a time (blank lines skipped). */
export async function* readCsv(stream: Readable | AsyncIterable<Buffer | string> | Iterable<Buffer | string>): AsyncGenerator<string[]> {
  const reader = new CsvReader();
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of stream) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (const record of reader.push(text)) yield record;
  }
  for (const record of reader.push(decoder.decode())) yield record;
  for (const record of reader.end()) yield record;
}
