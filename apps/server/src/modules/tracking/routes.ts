import { endpoints } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import { trackLead, trackRefund, trackSale } from './record.js';

export function trackingRoutes(r: Router): void {
  r.handle(endpoints.trackLead, async ({ body, auth, services, req }) => {
    const { body: result, replayed } = await trackLead(services, auth.workspaceId, body);
    req.log.info({ workspaceId: auth.workspaceId, leadId: result.lead.id, attributed: result.attributed, replayed }, 'lead tracked');
    return result;
  });

  r.handle(endpoints.trackSale, async ({ body, auth, services, req }) => {
    const { body: result, replayed } = await trackSale(services, auth.workspaceId, body);
    req.log.info({ workspaceId: auth.workspaceId, saleId: result.sale.id, attributed: result.attributed, replayed }, 'sale tracked');
    return result;
  });

  r.handle(endpoints.trackRefund, async ({ body, auth, services, req }) => {
    const result = await trackRefund(services, auth.workspaceId, body);
    req.log.info({ workspaceId: auth.workspaceId, refundId: result.refund.id, saleId: result.sale.id }, 'refund tracked');
    return result;
  });
}
