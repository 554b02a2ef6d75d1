import { endpoints } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import { actorOf } from '../audit/record.js';
import { eraseCustomer, exportCustomer } from './customer-data.js';
import { erasePartner, exportPartner } from './partner-data.js';

export function privacyRoutes(r: Router): void {
  r.handle(endpoints.exportCustomer, async ({ params, auth, services }) => exportCustomer(services, auth.workspaceId, params.externalId));
  r.handle(endpoints.eraseCustomer, async ({ params, auth, services }) => eraseCustomer(services, auth.workspaceId, actorOf(auth), params.externalId));
  r.handle(endpoints.exportPartner, async ({ params, auth, services }) => exportPartner(services, auth.workspaceId, params.id));
  r.handle(endpoints.erasePartner, async ({ params, auth, services }) => erasePartner(services, auth.workspaceId, actorOf(auth), params.id));
}
