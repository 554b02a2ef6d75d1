import type pg from 'pg';
import { ApiError, type trackLeadBody, type trackSaleBody } from '@tandem/contracts';
import type { z } from 'zod';
import type { Job } from '../../jobs/queue.js';
import type { Services, WorkspaceAuth } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { actorOf, recordAudit, type AuditActor } from '../audit/record.js';
import { trackLead, trackSale } from '../tracking/record.js';
import { conversionImportView, MAX_LISTED_ERRORS, RECORD_QUEUE, type ConversionImportRow, type ConversionImportView, type ImportError } from './conversion-imports.js';

/** One validated CSV row as stored: its file row number and the tracking API body. */
export type ValidatedConversion =
  | { row: number; type: 'lead'; body: z.output<typeof trackLeadBody> }
  | { row: number; type: 'sale'; body: z.output<typeof trackSaleBody> };

export interface RecordOptions {
  /** Rows read, recorded and checkpointed together. */
  chunkRows: number;
  /** Conversions recorded at once; each is its own transaction, as on the tracking API. */
  concurrency: number;
  /**
   * How long one job runs before it hands the rest to a fresh job. Well under the queue's lock
   * (300 s), so a live worker never has its job retaken, and other queued work gets a turn.
   */
  sliceMs: number;
}

export const DEFAULT_RECORD_OPTIONS: RecordOptions = { chunkRows: 512, concurrency: 8, sliceMs: 60_000 };

export function registerImportJobs(services: Services, options: RecordOptions = DEFAULT_RECORD_OPTIONS): void {
  services.queue.register<{ importId: string }>(RECORD_QUEUE, (job) => runRecordJob(services, job, options));
}

async function runRecordJob(services: Services, job: Job<{ importId: string }>, options: RecordOptions): Promise<void> {
  const workspaceId = job.workspaceId!;
  const { importId } = job.payload;
  try {
    const outcome = await recordImportSlice(services, workspaceId, importId, options);
    // A fresh job for the rest; its key is unique per checkpoint, so a slice repeated after a
    // crash cannot enqueue the same continuation twice.
    if (outcome.kind === 'more') {
      await services.queue.enqueue(RECORD_QUEUE, { importId }, { workspaceId, uniqueKey: `${RECORD_QUEUE}:${importId}:${outcome.doneSeq}` });
    }
  } catch (error) {
    // The queue retries with backoff; on the last attempt the import itself is marked failed so
    // it does not look queued forever. Not when this worker lost the job's lease: another worker
    // holds the job (and the import) now, and this attempt's failure is not the import's.
    if (job.attempts >= job.maxAttempts && !job.signal.aborted) {
      await failImport(services, workspaceId, importId, error instanceof Error ? error.message : String(error));
    }
    throw error;
  }
}

/**
 * Records the import's stored rows from its checkpoint onwards, chunk by chunk, for at most
 * `sliceMs`. After each chunk one transaction deletes the chunk's rows and moves the checkpoint and
 * counters forward; it only applies if the checkpoint is still where this worker found it, so two
 * workers can never both count a chunk. A crash between recording and checkpoint repeats the chunk:
 * recording is idempotent (same invoiceId, same customer+event), so repeats change nothing.
 */
export async function recordImportSlice(
  services: Services,
  workspaceId: string,
  importId: string,
  options: RecordOptions,
): Promise<{ kind: 'done' } | { kind: 'more'; doneSeq: number }> {
  const { rows: started } = await services.pool.query<{ done_seq: number; listed: number }>(
    `update conversion_imports set status = 'running', started_at = coalesce(started_at, $3)
      where workspace_id = $1 and id = $2 and status in ('queued', 'running')
      returning done_seq, jsonb_array_length(errors) as listed`,
    [workspaceId, importId, services.now()],
  );
  if (!started[0]) return { kind: 'done' }; // completed or failed meanwhile: nothing to do
  let doneSeq = started[0].done_seq;
  let listed = started[0].listed;
  const sliceEnds = Date.now() + options.sliceMs;

  for (;;) {
    const { rows: chunk } = await services.pool.query<{ seq: number; item: ValidatedConversion }>(
      `select seq, item from conversion_import_rows where workspace_id = $1 and import_id = $2 and seq > $3 order by seq limit $4`,
      [workspaceId, importId, doneSeq, options.chunkRows],
    );
    if (chunk.length === 0) {
      await completeImport(services, workspaceId, importId, doneSeq);
      return { kind: 'done' };
    }
    const outcome = await recordChunk(services, workspaceId, chunk.map((c) => c.item), options.concurrency);
    const lastSeq = chunk[chunk.length - 1]!.seq;
    const newErrors = outcome.errors.slice(0, Math.max(0, MAX_LISTED_ERRORS - listed));
    const advanced = await withTransaction(services.pool, async (client) => {
      // Counted even when the import was cancelled while this chunk was being recorded: what the
      // chunk recorded is recorded, and the import says so.
      const { rows: moved } = await client.query<{ status: string }>(
        `update conversion_imports set done_seq = $4, recorded = recorded + $5, failed = failed + $6, errors = errors || $7::jsonb
          where workspace_id = $1 and id = $2 and done_seq = $3 and status in ('running', 'cancelled')
          returning status`,
        [workspaceId, importId, doneSeq, lastSeq, outcome.recorded, outcome.failedRows, JSON.stringify(newErrors)],
      );
      if (moved[0]?.status !== 'running') return false;
      await client.query('delete from conversion_import_rows where workspace_id = $1 and import_id = $2 and seq <= $3', [workspaceId, importId, lastSeq]);
      return true;
    });
    if (!advanced) return { kind: 'done' }; // cancelled, or another worker moved this import on (it carries on)
    doneSeq = lastSeq;
    listed += newErrors.length;
    // A short chunk was the last one: finish in this job rather than hand over an empty remainder.
    if (Date.now() >= sliceEnds && chunk.length === options.chunkRows) return { kind: 'more', doneSeq };
  }
}

/**
 * Records one chunk. Rows of one customer are recorded in file order (a lead's click must attribute
 * before that customer's sale, as on the API where conversions count in arrival order); different
 * customers run side by side. Chunks follow each other, so the order holds across chunks too.
 */
export async function recordChunk(
  services: Services,
  workspaceId: string,
  items: ValidatedConversion[],
  concurrency: number,
): Promise<{ recorded: number; failedRows: number; errors: ImportError[] }> {
  const errors: ImportError[] = [];
  let recorded = 0;
  let failedRows = 0;
  const byCustomer = new Map<string, ValidatedConversion[]>();
  for (const item of items) {
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
      for (const item of queue) {
        try {
          if (item.type === 'lead') await trackLead(services, workspaceId, item.body);
          else await trackSale(services, workspaceId, item.body);
          recorded += 1;
        } catch (error) {
          // A refusal of this row (unknown click, …) is the row's problem; anything else (the
          // database gone) aborts the chunk, which is retried from the checkpoint.
          if (!(error instanceof ApiError)) throw error;
          failedRows += 1;
          const details = error.details?.length ? error.details : [{ path: null, message: error.message }];
          for (const d of details) errors.push({ row: item.row, path: d.path ?? null, message: d.message });
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queues.length) }, worker));
  return { recorded, failedRows, errors };
}

type ClosedImport = { rows: number; recorded: number; failed: number; actor: AuditActor };

/** An import's audit entry when it completes or fails. */
async function closeImport(client: pg.PoolClient, workspaceId: string, importId: string, closed: ClosedImport, action: string, after: Record<string, unknown>): Promise<void> {
  await recordAudit(client, { workspaceId, actor: closed.actor, action, target: { type: 'conversion_import', id: importId }, after: { rows: closed.rows, recorded: closed.recorded, failed: closed.failed, ...after } });
}

async function completeImport(services: Services, workspaceId: string, importId: string, doneSeq: number): Promise<void> {
  await withTransaction(services.pool, async (client) => {
    // Every checkpoint deleted the rows it recorded, so none are left to delete here.
    const { rows } = await client.query<ClosedImport>(
      `update conversion_imports set status = 'completed', finished_at = $4
        where workspace_id = $1 and id = $2 and status = 'running' and done_seq = $3
        returning rows, recorded, failed, actor`,
      [workspaceId, importId, doneSeq, services.now()],
    );
    if (rows[0]) await closeImport(client, workspaceId, importId, rows[0], 'conversions.imported', {});
  });
}

/**
 * Cancels a queued or running import: its unrecorded rows are dropped and it is closed with an audit
 * entry. A job recording a chunk meanwhile finishes that chunk (its checkpoint then finds the import
 * no longer running and stops); what was recorded stays recorded.
 */
export async function cancelImport(services: Services, auth: WorkspaceAuth, importId: string): Promise<ConversionImportView> {
  return withTransaction(services.pool, async (client) => {
    const { rows: found } = await client.query<ConversionImportRow>('select * from conversion_imports where workspace_id = $1 and id = $2 for update', [auth.workspaceId, importId]);
    const current = found[0];
    if (!current) throw new ApiError('not_found', 'Import not found');
    if (current.status !== 'queued' && current.status !== 'running') {
      throw new ApiError('conflict', `A ${current.status} import cannot be cancelled`, [{ path: 'id', message: `is ${current.status}` }]);
    }
    const { rows } = await client.query<ConversionImportRow>(
      `update conversion_imports set status = 'cancelled', finished_at = $3 where workspace_id = $1 and id = $2 returning *`,
      [auth.workspaceId, importId, services.now()],
    );
    const cancelled = rows[0]!;
    await client.query('delete from conversion_import_rows where workspace_id = $1 and import_id = $2', [auth.workspaceId, importId]);
    await closeImport(client, auth.workspaceId, importId, { ...cancelled, actor: actorOf(auth) }, 'conversions.import_cancelled', {});
    return conversionImportView(cancelled);
  });
}

async function failImport(services: Services, workspaceId: string, importId: string, message: string): Promise<void> {
  const error = message.slice(0, 2000);
  await withTransaction(services.pool, async (client) => {
    const { rows } = await client.query<ClosedImport>(
      `update conversion_imports set status = 'failed', error = $3, finished_at = $4
        where workspace_id = $1 and id = $2 and status in ('queued', 'running')
        returning rows, recorded, failed, actor`,
      [workspaceId, importId, error, services.now()],
    );
    if (!rows[0]) return;
    await client.query('delete from conversion_import_rows where workspace_id = $1 and import_id = $2', [workspaceId, importId]);
    await closeImport(client, workspaceId, importId, rows[0], 'conversions.import_failed', { error });
  });
}
