import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, endpoints } from '@tandem/contracts';
import { newIdBody } from '@tandem/core';
import type { Services } from './http/context.js';
import { Router } from './http/router.js';
import { buildOpenApi } from './http/openapi.js';
import { accountRoutes } from './modules/accounts/routes.js';
import { disputeRoutes } from './modules/disputes/routes.js';
import { fraudRoutes } from './modules/fraud/index.js';
import { linkRoutes } from './modules/links/routes.js';
import { installRedirectConnections } from './modules/links/redirect-connection.js';
import { isRedirectRequest, registerRedirect, type RedirectRuntime } from './modules/links/redirect.js';
import { registerSnippet } from './modules/links/snippet.js';
import { trackingRoutes } from './modules/tracking/routes.js';
import { registerStripeRawBody } from './modules/stripe/webhook.js';
import { stripeRoutes } from './modules/stripe/routes.js';
import { analyticsRoutes } from './modules/analytics/routes.js';
import { customerRoutes } from './modules/customers/routes.js';
import { webhookRoutes } from './modules/webhooks/routes.js';
import { auditRoutes } from './modules/audit/routes.js';
import { privacyRoutes } from './modules/privacy/routes.js';
import { exportRoutes } from './modules/exports/routes.js';
import { importRoutes } from './modules/imports/routes.js';
import { endOpenStreams, streamRoutes } from './modules/stream/routes.js';
import { programRoutes } from './modules/programs/routes.js';
import { partnerRoutes } from './modules/partners/routes.js';
import { portalRoutes } from './modules/portal/routes.js';
import './modules/rewards/index.js';
import './modules/stripe/hooks.js';
import { rewardRoutes } from './modules/rewards/routes.js';
import { ledgerRoutes } from './modules/ledger/routes.js';
import { payoutRoutes } from './modules/payouts/routes.js';
import { partnershipRoutes } from './modules/partnerships/routes.js';

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
  disputeRoutes(router);
  fraudRoutes(router);
  linkRoutes(router);
  trackingRoutes(router);
  stripeRoutes(router);
  analyticsRoutes(router);
  customerRoutes(router);
  webhookRoutes(router);
  auditRoutes(router);
  privacyRoutes(router);
  exportRoutes(router);
  importRoutes(router);
  streamRoutes(router);
  programRoutes(router);
  partnerRoutes(router);
  portalRoutes(router);
  rewardRoutes(router);
  ledgerRoutes(router);
  payoutRoutes(router);
  partnershipRoutes(router);
  return router;
}

export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  // Filled in when the redirect is registered below, before the server listens.
  const front: { redirect?: RedirectRuntime } = {};
  const app = Fastify({
    // The redirect (`/r/…`, the hottest path) is answered by node:http before Fastify's routing and
    // hooks; everything else goes through Fastify (docs/decisions/0006-redirect-hot-path.md).
    serverFactory: (fastifyHandler, opts) => {
      const server = http.createServer((req, res) =>
        front.redirect && isRedirectRequest(req) ? front.redirect.handle(req, res) : fastifyHandler(req, res),
      );
      // The timeouts Fastify gives a server it creates itself (keep-alive 72 s, behind load balancers).
      const timeouts = opts as { keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number };
      server.keepAliveTimeout = timeouts.keepAliveTimeout;
      server.requestTimeout = timeouts.requestTimeout;
      server.setTimeout(timeouts.connectionTimeout);
      // Connections that carry only redirects never reach node's HTTP parser (redirect-connection.ts).
      if (services.config.redirectConnections) {
        installRedirectConnections(server, {
          answer: (request, send) => front.redirect!.answer(request, send),
          countryHeader: services.config.countryHeader,
          keepAliveTimeoutMs: server.keepAliveTimeout,
          headersTimeoutMs: server.headersTimeout,
        });
      }
      return server;
    },
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: false }),
    bodyLimit: 1024 * 1024,
    trustProxy: services.config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => `req_${newIdBody()}`,
    // Unknown keys are refused by the Zod contracts; Fastify must not strip them silently first.
    ajv: { customOptions: { removeAdditional: false } },
  });

  await app.register(fastifyCookie);
  // CSV imports read the request body as a stream (the handler gets it as `req.body`), so a large
  // file is never buffered whole; JSON bodies keep the 1 MiB limit.
  app.addContentTypeParser(['text/csv', 'application/csv'], (_req, payload, done) => done(null, payload));
  // Open event streams never end by themselves; closing the app ends them.
  app.addHook('preClose', async () => endOpenStreams(app));

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

  // API keys are cached only while this node hears revocations (http/api-key-cache.ts).
  let stopWatchingKeys: (() => Promise<void>) | undefined;
  app.addHook('onReady', async () => {
    stopWatchingKeys = await services.apiKeys.watch(services.log);
  });
  app.addHook('onClose', async () => stopWatchingKeys?.());

  front.redirect = await registerRedirect(app, services);
  registerSnippet(app);
  registerStripeRawBody(app);
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
