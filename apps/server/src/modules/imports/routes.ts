import { Readable } from 'node:stream';
import { ApiError, endpoints } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import { importPartners } from './import-partners.js';

export function importRoutes(r: Router): void {
  r.handle(endpoints.importPartners, async ({ params, query, auth, services, req }) => {
    // The text/csv parser hands over the request stream itself (see app.ts).
    if (!(req.body instanceof Readable)) {
      throw new ApiError('bad_request', 'Send the CSV as the request body with Content-Type: text/csv', [{ path: 'body', message: 'must be text/csv' }]);
    }
    return importPartners(services, auth, params.id, req.body, query);
  });
}
