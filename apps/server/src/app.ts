import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, endpoints } from '@tandem/contracts';
import { newIdBody } from '@tandem/core';
import type { Services } from './http/context.js';
import { Router } from './http/router.js';
import { buildOpenApi } from './http/openapi.js';
import { accountRoutes } from './modules/accounts/routes.js';

export const VERSION = '0.1.0';
const here = path.dirname(fileURLToPath(import.meta.url));
export const webDistDir = path.resolve(here, '../../web/dist');

export interface AppOptions {
  /** A pino logger instance (request logs with request ids); none in tests. */
  loggerInstance?: FastifyServerOptions['loggerInstance'];
  /** Check every response against its contract (on in tests). */
  validateResponses?: boolean;
  /** Serve the built web app from apps/web/dist when present. */
  serveWeb?: boolean;
}

/** Every module's routes. Modules add themselves here and nowhere else. */
export function buildRouter(): Router {
  const router = new Router();
  accountRoutes(router);
  return router;
}

export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: false }),
    bodyLimit: 1024 * 1024,
    trustProxy: services.config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => `req_${newIdBody()}`,
    // Unknown keys are refused by the Zod contracts; Fastify must not strip them silently first.
    ajv: { customOptions: { removeAdditional: false } },
  });

  await app.register(fastifyCookie);

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  app.setErrorHandler((error, req, reply) => {
    if (error instanceof ApiError) {
      if (error.code === 'rate_limited') reply.header('retry-after', /retry in (\d+)s/.exec(error.message)?.[1] ?? '1');
      return reply.code(error.status).send(error.toBody());
    }
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    const status = fastifyError.statusCode ?? 500;
    if (status === 413) return reply.code(413).send(new ApiError('bad_request', 'Request body is larger than 1 MiB', undefined, 413).toBody());
    if (status === 415) return reply.code(415).send(new ApiError('bad_request', 'Send JSON with Content-Type: application/json', undefined, 415).toBody());
    if (status >= 400 && status < 500) {
      const message = fastifyError.code?.startsWith('FST_ERR_CTP') ? `Malformed request body: ${fastifyError.message}` : fastifyError.message;
      return reply.code(400).send(new ApiError('bad_request', message).toBody());
    }
    req.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(new ApiError('internal', 'Internal error; the request id is in x-request-id').toBody());
  });

  const router = buildRouter();
  router.register(app, services, { validateResponses: options.validateResponses ?? false });

  app.get('/healthz', async () => ({ status: 'ok', db: services.dbKind }));
  const openapi = buildOpenApi([endpoints.health, ...router.endpoints], VERSION);
  app.get('/api/openapi.json', async () => openapi);

  const webReady = options.serveWeb !== false && existsSync(path.join(webDistDir, 'index.html'));
  if (webReady) {
    await app.register(fastifyStatic, { root: webDistDir, prefix: '/', wildcard: false, index: ['index.html'] });
  }

  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0] ?? '/';
    if (req.method === 'GET' && webReady && !url.startsWith('/api/') && !url.startsWith('/r/')) {
      // Client-side routes of the single-page app.
      return reply.type('text/html').sendFile('index.html');
    }
    return reply.code(404).send(new ApiError('not_found', `No route for ${req.method} ${url}`).toBody());
  });

  return app;
}
