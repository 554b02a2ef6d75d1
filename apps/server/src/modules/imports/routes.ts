import { Readable } from 'node:stream';
import { ApiError, endpoints } from '@tandem/contracts';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { getConversionImport, listConversionImports } from './conversion-imports.js';
import { importConversions } from './import-conversions.js';
import { importPartners } from './import-partners.js';
import { cancelImport } from './record-conversion-import.js';

/** The text/csv parser hands over the request stream itself (see app.ts). */
function csvBody(body: unknown): Readable {
  if (!(body instanceof Readable)) {
    throw new ApiError('bad_request', 'Send the CSV as the request body with Content-Type: text/csv', [{ path: 'body', message: 'must be text/csv' }]);
  }
  return body;
}

export function importRoutes(r: Router): void {
  r.handle(endpoints.importPartners, async ({ params, query, auth, services, req }) => importPartners(services, auth, params.id, csvBody(req.body), query));
  r.handle(endpoints.importConversions, async ({ query, auth, services, req, reply }) => {
    const outcome = await importConversions(services, auth, csvBody(req.body), query);
    if (outcome.kind === 'report') return outcome.report;
    // Accepted for recording in the background: 202 with the import to poll.
    return reply.code(202).send(outcome.import);
  });
  r.handle(endpoints.listConversionImports, async ({ query, auth, services }) => {
    const rows = await listConversionImports(services.pool, auth.workspaceId, { before: decodeCursor(query.cursor) ?? null, limit: query.limit + 1 });
    return pageOf(rows, query.limit, (row) => row.id);
  });
  r.handle(endpoints.getConversionImport, async ({ params, auth, services }) => getConversionImport(services.pool, auth.workspaceId, params.id));
  r.handle(endpoints.cancelConversionImport, async ({ params, auth, services }) => cancelImport(services, auth, params.id));
}
