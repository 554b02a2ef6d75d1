import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';

export const healthResponse = z.object({
  status: z.literal('ok'),
  db: z.enum(['embedded', 'external']),
});

export const metaEndpoints = {
  health: defineEndpoint({
    method: 'GET', path: '/healthz', operationId: 'health', tag: 'Meta', auth: { kind: 'none' },
    summary: 'Liveness and which PostgreSQL is in use', status: 200, response: healthResponse,
  }),
} as const;
