import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { ApiError, CONVERSION_IMPORT_COLUMNS, trackLeadBody, trackSaleBody } from '@tandem/contracts';
import { newId } from '@tandem/core';
import type { Services, WorkspaceAuth } from '../../http/context.js';
import { actorOf, recordAudit } from '../audit/record.js';
import { readCsv } from '../exports/csv-parse.js';
import { checkOccurredAt, trackLead, trackSale } from '../tracking/record.js';
import type { ImportReport } from './import-partners.js';

const MAX_LISTED_ERRORS = 1000;
/** Conversions recorded at once: each is its own transaction, as on the tracking API. */
const CONCURRENCY = 8;
const CUSTOMER_FIELDS = new Set(['externalId', 'email', 'name', 'country']);

type Validated =
  | { row: number; type: 'lead'; body: ReturnType<typeof trackLeadBody.parse> }
  | { row: number; type: 'sale'; body: ReturnType<typeof trackSaleBody.parse> };

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
export function conversionFromRecord(record: string[], positions: Map<string, number>, row: number): Validated | { row: number; errors: { path: string | null; message: string }[] } {
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
  return { row, type, body: parsed.data } as Validated;
}

/**
 * Imports historical conversions in two passes. The first reads the CSV stream, validates every
 * row and spools the good ones to a temporary file (one JSON line each), so memory does not grow
 * with the file. Only when the file is acceptable (no failed row, or bad rows to be skipped, and
 * not a dry run) does the second pass record each row through trackLead/trackSale — the tracking
 * API's own code: attribution at `occurredAt`, commissions, events, idempotency by invoice id.
 */
export async function importConversions(services: Services, auth: WorkspaceAuth, body: Readable, options: { dryRun: boolean; skipBadRows: boolean }): Promise<ImportReport> {
  const errors: ImportReport['errors'] = [];
  const failedRows = new Set<number>();
  const fail = (row: number, problems: { path: string | null; message: string }[]) => {
    failedRows.add(row);
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

    const write = !options.dryRun && (failedRows.size === 0 || options.skipBadRows) && rows > failedRows.size;
    if (!write) return report(options, false, rows, failedRows.size, errors);

    const recordOne = async (item: Validated) => {
      try {
        if (item.type === 'lead') await trackLead(services, auth.workspaceId, item.body);
        else await trackSale(services, auth.workspaceId, item.body);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        fail(item.row, error.details?.length ? error.details : [{ path: null, message: error.message }]);
      }
    };
    let batch: Validated[] = [];
    // Rows of one customer are recorded in file order (a lead's click must attribute before that
    // customer's sale is recorded, as on the API where events count in arrival order); different
    // customers run side by side. Batches follow each other, so order holds across them too.
    const flush = async () => {
      const byCustomer = new Map<string, Validated[]>();
      for (const item of batch) {
        const key = item.body.customer.externalId;
        const queue = byCustomer.get(key);
        if (queue) queue.push(item);
        else byCustomer.set(key, [item]);
      }
      const queues = [...byCustomer.values()];
      let next = 0;
      const worker = async () => {
        while (next < queues.length) {
          const queue = queues[next++]!;
          for (const item of queue) await recordOne(item);
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queues.length) }, worker));
      batch = [];
    };
    for await (const line of readline.createInterface({ input: fs.createReadStream(spool), crlfDelay: Infinity })) {
      batch.push(JSON.parse(line) as Validated);
      if (batch.length >= CONCURRENCY * 8) await flush();
    }
    await flush();
    await recordAudit(services.pool, {
      workspaceId: auth.workspaceId,
      actor: actorOf(auth),
      action: 'conversions.imported',
      target: { type: 'workspace', id: auth.workspaceId },
      after: { rows, recorded: rows - failedRows.size, failed: failedRows.size },
    });
    return report(options, true, rows, failedRows.size, errors);
  } finally {
    out.destroy();
    await fs.promises.rm(spool, { force: true });
  }
}

function report(options: { dryRun: boolean; skipBadRows: boolean }, committed: boolean, rows: number, failed: number, errors: ImportReport['errors']): ImportReport {
  return { dryRun: options.dryRun, skipBadRows: options.skipBadRows, committed, rows, succeeded: rows - failed, failed, errors: [...errors].sort((a, b) => a.row - b.row) };
}
