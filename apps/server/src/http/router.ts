import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError, type Endpoint } from '@tandem/contracts';
import { checkCsrf, resolveAuth } from './auth.js';
import type { Auth, Services, WorkspaceAuth } from './context.js';
import { parseInput } from './validation.js';

type Out<S> = [S] extends [z.ZodType] ? z.output<S> : undefined;
type In<S> = [S] extends [z.ZodType] ? z.input<S> : void;

type AuthFor<E extends Endpoint> = E['auth'] extends { kind: 'scope' }
  ? WorkspaceAuth
  : E['auth'] extends { kind: 'user' }
    ? Extract<Auth, { kind: 'session' }>
    : Auth | null;

export interface HandlerInput<E extends Endpoint> {
  body: Out<E['body']>;
  query: Out<E['query']>;
  params: Out<E['params']>;
  auth: AuthFor<E>;
  req: FastifyRequest;
  reply: FastifyReply;
  services: Services;
}

export type Handler<E extends Endpoint> = (input: HandlerInput<E>) => Promise<In<E['response']> | void> | In<E['response']> | void;

interface Bound {
  endpoint: Endpoint;
  handler: Handler<Endpoint>;
}

/**
 * Binds handlers to the endpoint contracts. A route is thin: authenticate, parse with the
 * contract's schemas (unknown keys → 422 naming them), call the module function, reply.
 */
export class Router {
  private readonly bound: Bound[] = [];

  handle<E extends Endpoint>(endpoint: E, handler: Handler<E>): void {
    this.bound.push({ endpoint, handler: handler as unknown as Handler<Endpoint> });
  }

  get endpoints(): Endpoint[] {
    return this.bound.map((b) => b.endpoint);
  }

  register(app: FastifyInstance, services: Services, options: { validateResponses: boolean }): void {
    for (const { endpoint, handler } of this.bound) {
      app.route({
        method: endpoint.method,
        url: endpoint.path,
        handler: async (req, reply) => {
          const auth = await authorize(endpoint, req, services);
          const params = endpoint.params ? parseInput(endpoint.params, req.params, 'params') : undefined;
          const query = endpoint.query ? parseInput(endpoint.query, req.query, 'query') : undefined;
          const body = endpoint.body ? parseInput(endpoint.body, req.body, 'body') : undefined;
          const result = await handler({ body: body as never, query: query as never, params: params as never, auth: auth as never, req, reply, services });
          if (reply.sent) return reply;
          reply.code(endpoint.status);
          if (endpoint.status === 204 || result === undefined) return reply.send();
          if (options.validateResponses && endpoint.response && !endpoint.produces) {
            const check = endpoint.response.safeParse(result);
            if (!check.success) {
              req.log.error({ issues: check.error.issues, operation: endpoint.operationId }, 'response does not match its contract');
              throw new ApiError('internal', `Response of ${endpoint.operationId} does not match its contract`);
            }
          }
          return reply.send(result);
        },
      });
    }
  }
}

async function authorize(endpoint: Endpoint, req: FastifyRequest, services: Services): Promise<Auth | null> {
  const auth = await resolveAuth(req, services);
  const rule = endpoint.auth;
  if (rule.kind === 'none') {
    checkCsrf(req, auth);
    return auth;
  }
  if (!auth) throw new ApiError('unauthorized', 'Sign in or send an API key (Authorization: Bearer tdm_sk_…)');
  checkCsrf(req, auth);
  if (rule.kind === 'user') {
    if (auth.kind !== 'session') throw new ApiError('forbidden', 'This endpoint needs a signed-in user, not an API key');
    return auth;
  }
  if (!auth.workspaceId) throw new ApiError('forbidden', 'No workspace selected for this session');
  if (!auth.scopes.includes(rule.scope)) throw new ApiError('forbidden', `This action needs the '${rule.scope}' scope`);
  return auth;
}
