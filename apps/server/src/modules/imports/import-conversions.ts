import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ApiError, CONVERSION_IMPORT_COLUMNS, trackLeadBody, trackSaleBody } from '@tandem/contracts';
import { newId } from '@tandem/core';
import type { Services, WorkspaceAuth } from '../../http/context.js';
import { actorOf } from '../audit/record.js';
import { readCsv } from '../exports/csv-parse.js';
import { checkOccurredAt } from '../tracking/record.js';
import { MAX_LISTED_ERRORS, storeConversionImport, type ConversionImportView } from './conversion-imports.js';
import type { ValidatedConversion } from './record-conversion-import.js';
import type { ImportReport } from './import-partners.js';

const CUSTOMER_FIELDS = new Set(['externalId', 'email', 'name', 'country']);

export function readConversionHeader(header: string[]): Map<string, number> {
  const known = new Set<string>(CONVERSION_IMPORT_COLUMNS);
  const positions = new Map<string, number>();
  const problems: { path: string; message: string }[] = [];
  header.forEach((raw, index) => {
    const name = raw.trim().replace(/^\uFEFF/, '');
    if (!known.has(name)) problems.push({ path: `header.${name || index}`, message: 'is not a column' });
    else if (positions.has(name)) problems.push({ path: `header.${name}`, message: 'appears twice' });
    else positions.set(name, index);
  });
  if (!positions.has('externalId')) problems.push({ path: 'header.externalId', message: 'is required' });
  if (problems.length) throw new ApiError('unprocessable', 'The CSV header is not usable', problems);
  return positions;
}

/**
 * One CSV record as the body the tracking API takes, validated by the same schema. Paths in the
 * errors are column names (`email`, not `customer.email`).
 */
export function conversionFromRecord(record: string[], positions: Map<string, number>, row: number): ValidatedConversion | { row: number; errors: { path: string | null; message: string }[] } {
  const cells: Record<string, string> = {};
  for (const [column, index] of positions) {
    const value = record[index]?.trim() ?? '';
    if (value !== '') cells[column] = value;
  }
  const { type = 'sale', ...fields } = cells;
  const customer: Record<string, string> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (CUSTOMER_FIELDS.has(key)) customer[key] = value;
    else rest[key] = key === 'amount' && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  const column = (issuePath: PropertyKey[]) => (issuePath[0] === 'customer' ? issuePath.slice(1) : issuePath).join('.') || null;
  if (type !== 'lead' && type !== 'sale') return { row, errors: [{ path: 'type', message: 'must be lead or sale' }] };
  const parsed = type === 'lead' ? trackLeadBody.safeParse({ ...rest, customer }) : trackSaleBody.safeParse({ ...rest, customer });
  if (!parsed.success) return { row, errors: parsed.error.issues.map((i) => ({ path: column(i.path), message: i.message })) };
  return { row, type, body: parsed.data } as ValidatedConversion;
}

/**
 * Accepts a conversions CSV. The stream is read once: every row is validated and the good ones are
 * spooled to a temporary file (one JSON line each), so memory does not grow with the file. A dry
 * run, or a file with failed rows when bad rows are not to be skipped, answers with the report and
 * writes nothing. Otherwise the rows are stored with an import record and a job, and the import is
 * answered `queued`: the job records each row through trackLead/trackSale — the tracking API's own
 * code: attribution at `occurredAt`, commissions, events, idempotency by invoice id
 * (record-conversion-import.ts).
 */
export async function importConversions(
  services: Services,
  auth: WorkspaceAuth,
  body: Readable,
  options: { dryRun: boolean; skipBadRows: boolean },
): Promise<{ kind: 'report'; report: ImportReport } | { kind: 'queued'; import: ConversionImportView }> {
  const errors: ImportReport['errors'] = [];
  let failed = 0;
  const fail = (row: number, problems: { path: string | null; message: string }[]) => {
    failed += 1;
    for (const p of problems) if (errors.length < MAX_LISTED_ERRORS) errors.push({ row, ...p });
  };
  const spool = path.join(os.tmpdir(), `tandem-import-${newId('imp')}.jsonl`);
  const out = fs.createWriteStream(spool, { mode: 0o600 });
  let rows = 0;
  try {
    const records = readCsv(body);
    const first = await records.next();
    if (first.done) throw new ApiError('unprocessable', 'The CSV is empty', [{ path: 'body', message: 'needs a header row' }]);
    const positions = readConversionHeader(first.value);
    const now = services.now();
    for await (const record of records) {
      rows += 1;
      const result = conversionFromRecord(record, positions, rows);
      if ('errors' in result) {
        fail(rows, result.errors);
        continue;
      }
      try {
        checkOccurredAt(result.body.occurredAt, now);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        fail(rows, error.details ?? [{ path: null, message: error.message }]);
        continue;
      }
      if (!out.write(JSON.stringify(result) + '\n')) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');

    const write = !options.dryRun && (failed === 0 || options.skipBadRows) && rows > failed;
    if (!write) return { kind: 'report', report: report(options, rows, failed, errors) };
    const stored = await storeConversionImport(services, { workspaceId: auth.workspaceId, actor: actorOf(auth), skipBadRows: options.skipBadRows, rows, failed, errors, spool });
    return { kind: 'queued', import: stored };
  } finally {
    out.destroy();
    await fs.promises.rm(spool, { force: true });
  }
}

/** The answer when nothing is written: a dry run, or failed rows that were not to be skipped. */
function report(options: { dryRun: boolean; skipBadRows: boolean }, rows: number, failed: number, errors: ImportReport['errors']): ImportReport {
  return { dryRun: options.dryRun, skipBadRows: options.skipBadRows, committed: false, rows, succeeded: rows - failed, failed, errors };
}
