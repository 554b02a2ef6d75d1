import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { idParams, isoDateTime, listQuery, page } from './common.js';
import { EVENT_TYPES, TEST_EVENT_TYPE } from './events.js';

const subscribedEvents = z
  .array(z.enum([...EVENT_TYPES, '*']))
  .min(1, 'needs at least one event type (or "*")')
  .max(EVENT_TYPES.length + 1)
  .describe('Event types to receive, or ["*"] for all');

const webhookUrl = z
  .string()
  .trim()
  .max(2000)
  .pipe(z.url({ message: 'must be an absolute http(s) URL' }))
  .describe('Where deliveries are POSTed; http(s) only, private addresses refused');

export const webhookEndpoint = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledAt: isoDateTime.nullable(),
    disabledReason: z.string().nullable().describe('Why Tandem disabled the endpoint (persistent failure) or null'),
    createdAt: isoDateTime,
  })
  .meta({ id: 'WebhookEndpoint' });

export const createWebhookBody = z.strictObject({
  url: webhookUrl,
  events: subscribedEvents,
  description: z.string().trim().max(200).optional(),
});
export const createdWebhookEndpoint = webhookEndpoint.extend({
  secret: z.string().describe('Signing secret `whsec_<base64>`; shown only in this response'),
});

export const updateWebhookBody = z.strictObject({
  url: webhookUrl.optional(),
  events: subscribedEvents.optional(),
  description: z.string().trim().max(200).nullable().optional(),
  enabled: z.boolean().optional().describe('Re-enabling resumes pending deliveries'),
});

export const deliveryAttempt = z
  .object({
    attempt: z.number().int(),
    statusCode: z.number().int().nullable().describe('HTTP status of the response, null when none came'),
    error: z.string().nullable(),
    durationMs: z.number().int(),
    attemptedAt: isoDateTime,
  })
  .meta({ id: 'WebhookDeliveryAttempt' });

export const webhookDelivery = z
  .object({
    id: z.string().describe('The `webhook-id` header: the same on every attempt and redelivery'),
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    nextAttemptAt: isoDateTime.nullable(),
    createdAt: isoDateTime,
    attempts: z.array(deliveryAttempt),
  })
  .meta({ id: 'WebhookDelivery' });

export const deliveryParams = z.strictObject({ id: z.string().min(1).max(64), deliveryId: z.string().min(1).max(64) });
export const listDeliveriesQuery = listQuery.extend({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
});

const tag = 'Webhooks';
export const webhookEndpoints = {
  createWebhook: defineEndpoint({
    method: 'POST', path: '/api/v1/webhooks', operationId: 'createWebhook', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Add a webhook endpoint (the signing secret is shown once)',
    description:
      'Deliveries follow Standard Webhooks: headers `webhook-id`, `webhook-timestamp` (unix seconds) and ' +
      '`webhook-signature` = `v1,` + base64(HMAC-SHA256(secret bytes, `${id}.${timestamp}.${body}`)), where the ' +
      'secret bytes are the base64 after `whsec_`. Failed deliveries are retried with exponential backoff and ' +
      'jitter for about a day; an endpoint that keeps failing is disabled.',
    body: createWebhookBody, status: 201, response: createdWebhookEndpoint,
  }),
  listWebhooks: defineEndpoint({
    method: 'GET', path: '/api/v1/webhooks', operationId: 'listWebhooks', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'List webhook endpoints', query: listQuery, status: 200, response: page(webhookEndpoint),
  }),
  getWebhook: defineEndpoint({
    method: 'GET', path: '/api/v1/webhooks/:id', operationId: 'getWebhook', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'One webhook endpoint', params: idParams, status: 200, response: webhookEndpoint,
  }),
  updateWebhook: defineEndpoint({
    method: 'PATCH', path: '/api/v1/webhooks/:id', operationId: 'updateWebhook', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Change a webhook endpoint, or enable / disable it', params: idParams, body: updateWebhookBody,
    status: 200, response: webhookEndpoint,
  }),
  deleteWebhook: defineEndpoint({
    method: 'DELETE', path: '/api/v1/webhooks/:id', operationId: 'deleteWebhook', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Remove a webhook endpoint and its delivery log', params: idParams, status: 204,
  }),
  listWebhookDeliveries: defineEndpoint({
    method: 'GET', path: '/api/v1/webhooks/:id/deliveries', operationId: 'listWebhookDeliveries', tag,
    auth: { kind: 'scope', scope: 'admin' }, summary: 'Deliveries of an endpoint with every attempt and its response code, newest first',
    params: idParams, query: listDeliveriesQuery, status: 200, response: page(webhookDelivery),
  }),
  redeliverWebhook: defineEndpoint({
    method: 'POST', path: '/api/v1/webhooks/:id/deliveries/:deliveryId/redeliver', operationId: 'redeliverWebhook', tag,
    auth: { kind: 'scope', scope: 'admin' }, summary: 'Send a delivery again now (same `webhook-id`, a fresh retry schedule)',
    params: deliveryParams, status: 202, response: webhookDelivery,
  }),
  testWebhook: defineEndpoint({
    method: 'POST', path: '/api/v1/webhooks/:id/test', operationId: 'testWebhook', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: `Send a \`${TEST_EVENT_TYPE}\` event to the endpoint`, params: idParams, status: 202, response: webhookDelivery,
  }),
};
