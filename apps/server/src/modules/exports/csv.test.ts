import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { csvField, csvLine, keysetBatches } from './csv.js';
import { CsvReader, readCsv } from './csv-parse.js';

/** A small RFC 4180 reader, to check that what we write reads back as written. */
function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

describe('csv', () => {
  it('quotes separators, quotes and line breaks', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', null, 42, -7, new Date('2026-01-02T03:04:05Z')])).toBe(
      'a,"b,c","say ""hi""","two\nlines",,42,-7,2026-01-02T03:04:05.000Z\r\n',
    );
  });

  it('defuses spreadsheet formulas in text but leaves numbers alone', () => {
    expect(csvField('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)");
    expect(csvField('+1 555')).toBe("'+1 555");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField(-250)).toBe('-250');
  });

  it('round-trips any text that does not look like a formula', () => {
    fc.assert(
      fc.property(fc.array(fc.string().filter((s) => !/^[=+\-@\t\r]/.test(s) && !s.includes('\r')), { minLength: 1, maxLength: 6 }), (values) => {
        const line = csvLine(values);
        expect(parseCsvLine(line.slice(0, -2))).toEqual(values);
      }),
    );
  });

  it('pages by key until a short batch', async () => {
    const all = Array.from({ length: 25 }, (_, i) => ({ id: String(i).padStart(3, '0') }));
    const calls: (string | null)[] = [];
    const fetch = async (after: string | null) => {
      calls.push(after);
      return all.filter((r) => after === null || r.id > after).slice(0, 10);
    };
    const seen: string[] = [];
    for await (const row of keysetBatches(fetch, (r) => r.id, 10)) seen.push(row.id);
    expect(seen).toEqual(all.map((r) => r.id));
    expect(calls).toEqual([null, '009', '019']);
  });
});

describe('CsvReader', () => {
  it('reads what csvLine writes, however the text is split into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string().filter((s) => !/^[=+\-@\t\r]/.test(s) && !s.includes('\r')), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }),
        (records, cuts) => {
          // A record of one empty field is a blank line, which readers skip.
          const kept = records.filter((r) => !(r.length === 1 && r[0] === ''));
          const text = kept.map(csvLine).join('');
          const reader = new CsvReader();
          const out: string[][] = [];
          let at = 0;
          for (let i = 0; at < text.length; i++) {
            const size = cuts[i % cuts.length]!;
            out.push(...reader.push(text.slice(at, at + size)));
            at += size;
          }
          out.push(...reader.end());
          expect(out).toEqual(kept);
        },
      ),
    );
  });

  it('handles a last line without a line break, LF endings and blank lines', async () => {
    const records: string[][] = [];
    for await (const r of readCsv([Buffer.from('a,b\n\n"x\ny",'), Buffer.from('z\n1,"2""3"')])) records.push(r);
    expect(records).toEqual([['a', 'b'], ['x\ny', 'z'], ['1', '2"3']]);
  });

  it('decodes multi-byte characters split across chunks', async () => {
    const bytes = Buffer.from('name\nZoë\n');
    const records: string[][] = [];
    for await (const r of readCsv([bytes.subarray(0, 8), bytes.subarray(8)])) records.push(r);
    expect(records).toEqual([['name'], ['Zoë']]);
  });
});
