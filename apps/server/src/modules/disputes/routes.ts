import { endpoints } from '@tandem/contracts';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import {
  commentAsBrand, commentAsPartner, decideDispute, fileDispute, getBrandDispute, getDisputePolicy, getPortalDispute,
  listBrandDisputes, listPortalDisputes, reviewDispute, updateDisputePolicy, withdrawDispute,
} from './disputes.js';

export function disputeRoutes(r: Router): void {
  r.handle(endpoints.fileDispute, async ({ body, auth, services, req }) => fileDispute(services, auth.userId, body, req.ip));

  r.handle(endpoints.listPortalDisputes, async ({ query, auth, services }) => {
    const items = await listPortalDisputes(services, auth.userId, { status: query.status, after: decodeCursor(query.cursor), limit: query.limit });
    return pageOf(items, query.limit, (d) => d.id);
  });

  r.handle(endpoints.getPortalDispute, async ({ params, auth, services }) => getPortalDispute(services, auth.userId, params.id));
  r.handle(endpoints.commentPortalDispute, async ({ params, body, auth, services }) => commentAsPartner(services, auth.userId, params.id, body.body));
  r.handle(endpoints.withdrawDispute, async ({ params, auth, services }) => withdrawDispute(services, auth.userId, params.id));

  r.handle(endpoints.listDisputes, async ({ query, auth, services }) => {
    const escalated = query.escalated === undefined ? undefined : query.escalated === 'true';
    const items = await listBrandDisputes(services, auth.workspaceId, { status: query.status, programId: query.programId, escalated, after: decodeCursor(query.cursor), limit: query.limit });
    return pageOf(items, query.limit, (d) => d.id);
  });

  r.handle(endpoints.getDispute, async ({ params, auth, services }) => getBrandDispute(services, auth.workspaceId, params.id));
  r.handle(endpoints.commentDispute, async ({ params, body, auth, services }) => commentAsBrand(services, auth, params.id, body.body));
  r.handle(endpoints.reviewDispute, async ({ params, auth, services }) => reviewDispute(services, auth, params.id));
  r.handle(endpoints.decideDispute, async ({ params, body, auth, services }) => decideDispute(services, auth, params.id, body));
  r.handle(endpoints.getDisputePolicy, async ({ params, auth, services }) => getDisputePolicy(services.pool, auth.workspaceId, params.id));
  r.handle(endpoints.updateDisputePolicy, async ({ params, body, auth, services }) => updateDisputePolicy(services, auth, params.id, body));
}
