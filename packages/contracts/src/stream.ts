import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { isoDateTime } from './common.js';

/**
 * One server-sent event of `GET /api/v1/stream`: the SSE `id:` is the event id (send it back as
 * `Last-Event-ID` to resume) and `data:` is this JSON. Domain events come from the outbox;
 * `clicks.recorded` is a nudge that new clicks landed (clicks are too many to be events).
 */
export const streamMessage = z
  .object({
    type: z.string().describe('An outbox event type such as sale.created, or clicks.recorded'),
    data: z.record(z.string(), z.unknown()),
    occurredAt: isoDateTime,
  })
  .meta({ id: 'StreamMessage' });
export type StreamMessage = z.infer<typeof streamMessage>;

export const streamQuery = z.strictObject({
  lastEventId: z.string().max(64).optional().describe('Resume after this event (same as the Last-Event-ID header)'),
});

export const streamEndpoints = {
  stream: defineEndpoint({
    method: 'GET',
    path: '/api/v1/stream',
    operationId: 'stream',
    tag: 'Real time',
    auth: { kind: 'scope', scope: 'read' },
    summary: "Server-sent events of the workspace's activity (text/event-stream)",
    description: 'Each message is a StreamMessage. A comment line is sent every 15 s to keep proxies from closing the connection.',
    query: streamQuery,
    status: 200,
    produces: 'text/event-stream',
    response: streamMessage,
  }),
  portalStream: defineEndpoint({
    method: 'GET',
    path: '/api/v1/portal/stream',
    operationId: 'portalStream',
    tag: 'Real time',
    auth: { kind: 'user' },
    summary: "Server-sent events about the signed-in partner's own commissions, payouts and disputes, across brands",
    description: "Same framing as /stream. Each event carries only the partner's own ids, amounts and statuses.",
    query: streamQuery,
    status: 200,
    produces: 'text/event-stream',
    response: streamMessage,
  }),
} as const;
