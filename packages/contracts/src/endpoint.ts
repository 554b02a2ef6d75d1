import type { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** Who may call an endpoint. `scope` endpoints accept a session or an API key holding the scope. */
export type EndpointAuth =
  | { kind: 'none' }
  | { kind: 'user' } // a signed-in user, no workspace needed
  | { kind: 'scope'; scope: 'read' | 'write' | 'admin' };

/**
 * One HTTP endpoint: the single source for the server's validation, the OpenAPI document and the
 * typed SDK. Handlers live in the server; the shape lives here.
 */
export interface Endpoint<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  path: string; // Fastify style: /api/v1/things/:id
  operationId: string;
  summary: string;
  tag: string;
  auth: EndpointAuth;
  params?: P;
  query?: Q;
  body?: B;
  status: number;
  response?: R;
  /** Non-JSON responses (CSV, iCalendar, HTML) say their content type here. */
  produces?: string;
  description?: string;
}

/** Declares an endpoint, keeping its exact schema and auth types for the server and the SDK. */
export const defineEndpoint = <const E extends Endpoint>(endpoint: E): E => endpoint;
