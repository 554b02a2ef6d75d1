import { ApiError, endpoints } from '@tandem/contracts';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { withTransaction } from '../../db/tx.js';
import { actorOf, recordAudit } from '../audit/record.js';
import { recordPartnerIdentity } from './identities.js';
import { partnerRiskOf } from './partner-risk.js';
import { decideReview, decideReviewsInBulk, getReview, listReviews } from './reviews.js';
import { getFraudSettings, updateFraudSettings } from './settings.js';

export function fraudRoutes(r: Router): void {
  r.handle(endpoints.getFraudSettings, async ({ params, auth, services }) => getFraudSettings(services, auth.workspaceId, params.id));
  r.handle(endpoints.updateFraudSettings, async ({ params, body, auth, services }) => updateFraudSettings(services, auth, params.id, body));
  r.handle(endpoints.addPayoutIdentity, async ({ params, body, auth, services }) => {
    const { rowCount } = await services.pool.query('select 1 from partners where workspace_id = $1 and id = $2', [auth.workspaceId, params.id]);
    if (!rowCount) throw new ApiError('not_found', 'Partner not found');
    await withTransaction(services.pool, async (client) => {
      await recordPartnerIdentity(client, services.secret, { workspaceId: auth.workspaceId, partnerId: params.id, kind: 'payout', value: body.details, at: services.now() });
      // The details themselves stay out of the audit log: only that they were registered.
      await recordAudit(client, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'partner.payout_identity_added', target: { type: 'partner', id: params.id } });
    });
  });
  r.handle(endpoints.getPartnerRisk, async ({ params, query, auth, services }) => partnerRiskOf(services, auth.workspaceId, params.id, query.programId));

  r.handle(endpoints.listReviews, async ({ query, auth, services }) => {
    const items = await listReviews(services, auth.workspaceId, { status: query.status, programId: query.programId, partnerId: query.partnerId, after: decodeCursor(query.cursor), limit: query.limit });
    return pageOf(items, query.limit, (i) => i.commissionId);
  });
  r.handle(endpoints.getReview, async ({ params, auth, services }) => getReview(services, auth.workspaceId, params.commissionId));
  r.handle(endpoints.releaseReview, async ({ params, body, auth, services }) => decideReview(services, auth, params.commissionId, 'release', body.reason));
  r.handle(endpoints.rejectReview, async ({ params, body, auth, services }) => decideReview(services, auth, params.commissionId, 'reject', body.reason));
  r.handle(endpoints.bulkReview, async ({ body, auth, services }) => decideReviewsInBulk(services, auth, body.commissionIds, body.action, body.reason));
}
