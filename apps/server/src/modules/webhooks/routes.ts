import { endpoints } from '@tandem/contracts';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { actorOf } from '../audit/record.js';
import { sendTestEvent } from './deliveries.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  ENDPOINT_COLUMNS,
  endpointView,
  getEndpointRow,
  listDeliveries,
  redeliver,
  updateWebhookEndpoint,
  type EndpointRow,
} from './endpoints.js';

export function webhookRoutes(r: Router): void {
  r.handle(endpoints.createWebhook, async ({ body, auth, services }) => createWebhookEndpoint(services, auth.workspaceId, actorOf(auth), body));

  r.handle(endpoints.listWebhooks, async ({ query, auth, services }) => {
    const { rows } = await services.pool.query<EndpointRow>(
      `select ${ENDPOINT_COLUMNS} from webhook_endpoints where workspace_id = $1 and ($2::text is null or id < $2) order by id desc limit $3`,
      [auth.workspaceId, decodeCursor(query.cursor) ?? null, query.limit + 1],
    );
    return pageOf(rows.map(endpointView), query.limit, (e) => e.id);
  });

  r.handle(endpoints.getWebhook, async ({ params, auth, services }) => endpointView(await getEndpointRow(services.pool, auth.workspaceId, params.id)));

  r.handle(endpoints.updateWebhook, async ({ params, body, auth, services }) => updateWebhookEndpoint(services, auth.workspaceId, actorOf(auth), params.id, body));

  r.handle(endpoints.deleteWebhook, async ({ params, auth, services }) => deleteWebhookEndpoint(services, auth.workspaceId, actorOf(auth), params.id));

  r.handle(endpoints.listWebhookDeliveries, async ({ params, query, auth, services }) => {
    await getEndpointRow(services.pool, auth.workspaceId, params.id);
    const rows = await listDeliveries(services.pool, auth.workspaceId, params.id, {
      before: decodeCursor(query.cursor),
      limit: query.limit + 1,
      ...(query.status ? { status: query.status } : {}),
    });
    return pageOf(rows, query.limit, (d) => d.id);
  });

  r.handle(endpoints.redeliverWebhook, async ({ params, auth, services }) => redeliver(services, auth.workspaceId, actorOf(auth), params.id, params.deliveryId));

  r.handle(endpoints.testWebhook, async ({ params, auth, services }) => sendTestEvent(services, auth.workspaceId, params.id));
}
