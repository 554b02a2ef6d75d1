import type { Readable } from 'node:stream';
import { addPartnerBody, ApiError, PARTNER_IMPORT_COLUMNS, type importReport } from '@tandem/contracts';
import type { z } from 'zod';
import type { Services, WorkspaceAuth } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { actorOf, recordAudit } from '../audit/record.js';
import { readCsv } from '../exports/csv-parse.js';
import { addPartnerToProgram } from '../partners/add-partner.js';
import { requestActor } from '../partners/enrollments.js';
import { getProgramRow } from '../programs/programs.js';

export type ImportReport = z.output<typeof importReport>;
type RowError = ImportReport['errors'][number];

/** Thrown to end the import's transaction with a rollback (dry run, or failed rows not skipped). */
class RollbackOnPurpose extends Error {}

/** One import is one transaction; past this size, split the file. */
export const MAX_PARTNER_IMPORT_ROWS = 50_000;
const MAX_LISTED_ERRORS = 1000;

/** Maps a header row to column positions, refusing unknown and missing columns up front. */
export function readPartnerHeader(header: string[]): Map<string, number> {
  const known = new Set<string>(PARTNER_IMPORT_COLUMNS);
  const positions = new Map<string, number>();
  const problems: { path: string; message: string }[] = [];
  header.forEach((raw, index) => {
    const name = raw.trim().replace(/^\uFEFF/, '');
    if (!known.has(name)) problems.push({ path: `header.${name || index}`, message: `is not a column (use ${PARTNER_IMPORT_COLUMNS.join(', ')})` });
    else if (positions.has(name)) problems.push({ path: `header.${name}`, message: 'appears twice' });
    else positions.set(name, index);
  });
  for (const required of ['email', 'name']) if (!positions.has(required)) problems.push({ path: `header.${required}`, message: 'is required' });
  if (problems.length) throw new ApiError('unprocessable', 'The CSV header is not usable', problems);
  return positions;
}

/** A CSV record as the `addPartner` body: empty cells are absent, tags split on spaces or `;`. */
export function partnerRowInput(record: string[], positions: Map<string, number>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [column, index] of positions) {
    const value = record[index]?.trim() ?? '';
    if (value === '') continue;
    input[column] = column === 'tags' ? value.split(/[\s;]+/).filter(Boolean) : value;
  }
  return input;
}

/**
 * Imports partners into a program from a CSV stream, every row through the same module function
 * as `POST /programs/:id/partners`, each in its own savepoint so one bad row does not spoil the
 * others. The whole import is one transaction: rolled back for a dry run, and when any row failed
 * unless bad rows are to be skipped.
 */
export async function importPartners(
  services: Services,
  auth: WorkspaceAuth,
  programId: string,
  body: Readable,
  options: { dryRun: boolean; skipBadRows: boolean },
): Promise<ImportReport> {
  const errors: RowError[] = [];
  let failedRows = 0;
  let rows = 0;
  const note = (error: RowError) => {
    if (errors.length < MAX_LISTED_ERRORS) errors.push(error);
  };
  // The whole file is read and checked before the transaction opens: a client that trickles its
  // upload would otherwise hold a writing transaction open for as long as it likes — and with it
  // the event stream's horizon, which holds back every workspace's live events on the server.
  await getProgramRow(services.pool, auth.workspaceId, programId);
  const records = readCsv(body);
  const first = await records.next();
  if (first.done) throw new ApiError('unprocessable', 'The CSV is empty', [{ path: 'body', message: 'needs a header row' }]);
  const positions = readPartnerHeader(first.value);
  const seenEmails = new Set<string>();
  const toAdd: { row: number; input: z.output<typeof addPartnerBody> }[] = [];
  for await (const record of records) {
    rows += 1;
    if (rows > MAX_PARTNER_IMPORT_ROWS) throw new ApiError('unprocessable', `At most ${MAX_PARTNER_IMPORT_ROWS} rows per import`, [{ path: 'body', message: 'has too many rows' }]);
    const parsed = addPartnerBody.safeParse(partnerRowInput(record, positions));
    if (!parsed.success) {
      failedRows += 1;
      for (const issue of parsed.error.issues) note({ row: rows, path: issue.path.join('.') || null, message: issue.message });
      continue;
    }
    if (seenEmails.has(parsed.data.email)) {
      failedRows += 1;
      note({ row: rows, path: 'email', message: 'appears earlier in this file' });
      continue;
    }
    seenEmails.add(parsed.data.email);
    toAdd.push({ row: rows, input: parsed.data });
  }
  const outcome = await withTransaction(services.pool, async (client) => {
    const program = await getProgramRow(client, auth.workspaceId, programId);
    for (const { row, input } of toAdd) {
      await client.query('savepoint import_row');
      try {
        await addPartnerToProgram(client, program, { ...input, reason: 'imported from CSV' }, requestActor(auth), services.now());
        await client.query('release savepoint import_row');
      } catch (error) {
        await client.query('rollback to savepoint import_row');
        if (!(error instanceof ApiError) && (error as { code?: string }).code !== '23505') throw error;
        failedRows += 1;
        if (error instanceof ApiError) {
          const details = error.details?.length ? error.details : [{ path: '', message: error.message }];
          for (const d of details) note({ row, path: d.path || null, message: d.message });
        } else note({ row, path: 'email', message: 'is already enrolled in this program' });
      }
    }
    const commit = !options.dryRun && (failedRows === 0 || options.skipBadRows) && rows - failedRows > 0;
    if (commit) {
      await recordAudit(client, {
        workspaceId: auth.workspaceId,
        actor: actorOf(auth),
        action: 'partners.imported',
        target: { type: 'program', id: programId },
        after: { rows, imported: rows - failedRows, skipped: failedRows },
      });
    }
    if (!commit) throw new RollbackOnPurpose();
    return { commit };
  }).catch((error: unknown) => {
    if (error instanceof RollbackOnPurpose) return { commit: false };
    throw error;
  });
  // Rows refused by their content were noted while reading, the others while adding: list them in file order.
  errors.sort((a, b) => a.row - b.row);
  return { dryRun: options.dryRun, skipBadRows: options.skipBadRows, committed: outcome.commit, rows, succeeded: rows - failedRows, failed: failedRows, errors };
}
