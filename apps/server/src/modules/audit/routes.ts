import { endpoints } from '@tandem/contracts';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { keysetBatches, sendCsv } from '../exports/csv.js';
import { auditEntryView, queryAudit } from './list-audit.js';

const CSV_BATCH = 1000;
const json = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value));

export function auditRoutes(r: Router): void {
  r.handle(endpoints.listAudit, async ({ query, auth, services }) => {
    const { limit, cursor, ...filters } = query;
    const rows = await queryAudit(services.pool, auth.workspaceId, filters, { after: decodeCursor(cursor) ?? null, limit: limit + 1, direction: 'newest' });
    return pageOf(rows.map(auditEntryView), limit, (e) => e.id);
  });

  r.handle(endpoints.exportAuditCsv, async ({ query, auth, services, reply }) => {
    const rows = keysetBatches((after) => queryAudit(services.pool, auth.workspaceId, query, { after, limit: CSV_BATCH, direction: 'oldest' }), (row) => row.id, CSV_BATCH);
    await sendCsv(reply, 'audit.csv', ['id', 'created_at', 'actor_kind', 'actor_id', 'action', 'target_type', 'target_id', 'before', 'after'], rows, (row) => [
      row.id,
      row.created_at,
      row.actor_kind,
      row.actor_id,
      row.action,
      row.target_type,
      row.target_id,
      json(row.before),
      json(row.after),
    ]);
  });
}
