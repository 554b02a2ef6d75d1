import fs from 'node:fs';
import readline from 'node:readline';
import type pg from 'pg';
import { ApiError, type conversionImport } from '@tandem/contracts';
import type { z } from 'zod';
import { newId } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import type { AuditActor } from '../audit/record.js';

export type ConversionImportView = z.input<typeof conversionImport>;
export type ImportError = ConversionImportView['errors'][number];

export const RECORD_QUEUE = 'imports.record-conversions';
/** Per-row problems kept on an import (validation and recording together). */
export const MAX_LISTED_ERRORS = 1000;
/** Rows per insert when the spool is copied into the table: few round trips, bounded memory. */
const STORE_BATCH = 5000;

export interface ConversionImportRow {
  workspace_id: string;
  id: string;
  status: ConversionImportView['status'];
  skip_bad_rows: boolean;
  rows: number;
  recorded: number;
  failed: number;
  errors: ImportError[];
  error: string | null;
  done_seq: number;
  actor: AuditActor;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export function conversionImportView(row: ConversionImportRow): ConversionImportView {
  return {
    id: row.id,
    status: row.status,
    skipBadRows: row.skip_bad_rows,
    rows: row.rows,
    recorded: row.recorded,
    failed: row.failed,
    errors: [...row.errors].sort((a, b) => a.row - b.row),
    error: row.error,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

/**
 * Stores an accepted import in one transaction: the import record, every validated row from the
 * spool file (one JSON line each, in file order) copied in batches, and the job that records them.
 * Either all of it commits or none, so a crash during the upload leaves no half-stored import.
 */
export async function storeConversionImport(
  services: Services,
  input: { workspaceId: string; actor: AuditActor; skipBadRows: boolean; rows: number; failed: number; errors: ImportError[]; spool: string },
): Promise<ConversionImportView> {
  const id = newId('imp');
  return withTransaction(services.pool, async (client) => {
    const { rows } = await client.query<ConversionImportRow>(
      `insert into conversion_imports (workspace_id, id, status, skip_bad_rows, rows, failed, errors, actor, created_at)
       values ($1, $2, 'queued', $3, $4, $5, $6, $7, $8) returning *`,
      [input.workspaceId, id, input.skipBadRows, input.rows, input.failed, JSON.stringify(input.errors), JSON.stringify(input.actor), services.now()],
    );
    let seqs: number[] = [];
    let items: string[] = [];
    const flush = async () => {
      if (!items.length) return;
      await client.query(
        `insert into conversion_import_rows (workspace_id, import_id, seq, item)
         select $1, $2, t.seq, t.item::jsonb from unnest($3::int[], $4::text[]) as t(seq, item)`,
        [input.workspaceId, id, seqs, items],
      );
      seqs = [];
      items = [];
    };
    let seq = 0;
    for await (const line of readline.createInterface({ input: fs.createReadStream(input.spool), crlfDelay: Infinity })) {
      seq += 1;
      seqs.push(seq);
      items.push(line);
      if (items.length >= STORE_BATCH) await flush();
    }
    await flush();
    await services.queue.enqueue(RECORD_QUEUE, { importId: id }, { client, workspaceId: input.workspaceId, uniqueKey: `${RECORD_QUEUE}:${id}` });
    return conversionImportView(rows[0]!);
  });
}

export async function getConversionImport(pool: pg.Pool, workspaceId: string, id: string): Promise<ConversionImportView> {
  const { rows } = await pool.query<ConversionImportRow>('select * from conversion_imports where workspace_id = $1 and id = $2', [workspaceId, id]);
  if (!rows[0]) throw new ApiError('not_found', 'Import not found');
  return conversionImportView(rows[0]);
}

/** Newest first, keyset on the time-sortable id; `limit` is the page size plus one. */
export async function listConversionImports(pool: pg.Pool, workspaceId: string, options: { before: string | null; limit: number }): Promise<Omit<ConversionImportView, 'errors'>[]> {
  const { rows } = await pool.query<ConversionImportRow>(
    `select workspace_id, id, status, skip_bad_rows, rows, recorded, failed, '[]'::jsonb as errors, error, done_seq, actor, created_at, started_at, finished_at
       from conversion_imports where workspace_id = $1 and ($2::text is null or id < $2) order by id desc limit $3`,
    [workspaceId, options.before, options.limit],
  );
  return rows.map((row) => {
    const { errors: _errors, ...summary } = conversionImportView(row);
    return summary;
  });
}
