import { endpoints } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import { segmentQuality } from './segments.js';
import { analyticsSummary } from './summary.js';
import { topPartners } from './top-partners.js';

export function analyticsRoutes(r: Router): void {
  r.handle(endpoints.analyticsSummary, async ({ query, auth, services }) => analyticsSummary(services.pool, auth.workspaceId, query));
  r.handle(endpoints.analyticsTopPartners, async ({ query, auth, services }) => topPartners(services.pool, auth.workspaceId, query));
  r.handle(endpoints.analyticsSegments, async ({ query, auth, services }) => segmentQuality(services.pool, auth.workspaceId, query, services.now()));
}
