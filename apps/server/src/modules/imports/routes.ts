import { Readable } from 'node:stream';
import { ApiError, endpoints } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import { importConversions } from './import-conversions.js';
import { importPartners } from './import-partners.js';

/** The text/csv parser hands over the request stream itself (see app.ts). */
function csvBody(body: unknown): Readable {
  if (!(body instanceof Readable)) {
    throw new ApiError('bad_request', 'Send the CSV as the request body with Content-Type: text/csv', [{ path: 'body', message: 'must be text/csv' }]);
  }
  return body;
}

export function importRoutes(r: Router): void {
  r.handle(endpoints.importPartners, async ({ params, query, auth, services, req }) => importPartners(services, auth, params.id, csvBody(req.body), query));
  r.handle(endpoints.importConversions, async ({ query, auth, services, req }) => importConversions(services, auth, csvBody(req.body), query));
}
