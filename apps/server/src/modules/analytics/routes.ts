import { endpoints } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import { analyticsSummary } from './summary.js';

export function analyticsRoutes(r: Router): void {
  r.handle(endpoints.analyticsSummary, async ({ query, auth, services }) => analyticsSummary(services.pool, auth.workspaceId, query));
}
