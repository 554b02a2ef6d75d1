import type { FastifyInstance } from 'fastify';

/*
 * The demo is seeded through the public API in-process (`app.inject`), so it exercises the same
 * code paths as a real brand and stays correct as the modules change. A failed call stops the
 * seeding with the endpoint's own error message.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
// The seeder reads a few fields of each answer; the contracts already validated the shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;
export type Caller = (method: Method, url: string, payload?: object) => Promise<Json>;

export class DemoApiError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    body: string,
  ) {
    super(`demo seeding: ${method} ${url} answered ${status}: ${body.slice(0, 500)}`);
  }
}

function caller(app: FastifyInstance, headers: Record<string, string>): Caller {
  return async (method, url, payload) => {
    const res = await app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
    if (res.statusCode >= 300) throw new DemoApiError(method, url, res.statusCode, res.body);
    return res.body ? res.json() : null;
  };
}

/** Calls made with a workspace API key. */
export const withApiKey = (app: FastifyInstance, apiKey: string): Caller => caller(app, { authorization: `Bearer ${apiKey}` });

/** Calls made as a signed-in user (portal partner): the session cookies plus the CSRF header. */
export function withSession(app: FastifyInstance, cookies: { name: string; value: string }[], csrfToken: string): Caller {
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  return caller(app, { cookie, 'x-csrf-token': csrfToken });
}

/** Unauthenticated calls (sign-ups, public applications); sign-ups also hand back the session cookies. */
export async function anonymous(
  app: FastifyInstance,
  method: Method,
  url: string,
  payload: object,
): Promise<{ body: Json; cookies: { name: string; value: string }[] }> {
  const res = await app.inject({ method, url, payload });
  if (res.statusCode >= 300) throw new DemoApiError(method, url, res.statusCode, res.body);
  return { body: res.json(), cookies: res.cookies.map((c) => ({ name: c.name, value: c.value })) };
}
