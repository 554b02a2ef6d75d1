import type { z } from 'zod';
import type { Endpoint, ErrorBody, ErrorDetail } from '@tandem/contracts';

/*
 * The one way the web app talks to the server. Paths, methods and shapes come from the endpoint
 * contracts in @tandem/contracts, so a screen cannot drift from the API it renders.
 */

type Out<S> = [S] extends [z.ZodType] ? z.output<S> : undefined;
type In<S> = [S] extends [z.ZodType] ? z.input<S> : undefined;

/** What an endpoint answers, as the contract says. */
export type ResponseOf<E extends Endpoint> = Out<E['response']>;
export type BodyOf<E extends Endpoint> = In<E['body']>;
export type QueryOf<E extends Endpoint> = In<E['query']>;

export interface CallInput<E extends Endpoint> {
  params?: In<E['params']>;
  query?: Partial<NonNullable<In<E['query']>>>;
  body?: In<E['body']>;
}

/** Reads the CSRF cookie set at sign-in; the server wants it echoed on every write. */
function csrfToken(): string | undefined {
  return document.cookie
    .split('; ')
    .find((c) => c.startsWith('tandem_csrf='))
    ?.slice('tandem_csrf='.length);
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
  ) {
    super(body?.error.message ?? `The server answered ${status}`);
  }
  get details(): ErrorDetail[] {
    return this.body?.error.details ?? [];
  }
  /** The message of the field at `path` (`body.name` and `name` both match). */
  fieldError(path: string): string | undefined {
    return this.details.find((d) => d.path === path || d.path === `body.${path}` || d.path.endsWith(`.${path}`))?.message;
  }
}

/** Fills `:name` segments of a contract path. */
export function fillPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new Error(`Missing path parameter ${name} for ${path}`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(key, String(v)));
    else search.set(key, String(value));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

export async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const csrf = csrfToken();
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) {
    if (!res.ok) throw new ApiFailure(res.status, undefined);
    return (await res.text()) as T;
  }
  const json = (await res.json().catch(() => undefined)) as unknown;
  if (!res.ok) throw new ApiFailure(res.status, json as ErrorBody | undefined);
  return json as T;
}

/** Calls one endpoint of the contract registry. */
export function call<E extends Endpoint>(endpoint: E, input: CallInput<E> = {}): Promise<ResponseOf<E>> {
  const url =
    fillPath(endpoint.path, input.params as Record<string, unknown> | undefined) +
    queryString(input.query as Record<string, unknown> | undefined);
  return request<ResponseOf<E>>(endpoint.method, url, input.body);
}

/** The URL of an endpoint, for downloads (CSV, .ics) the browser fetches itself. */
export function urlOf<E extends Endpoint>(endpoint: E, input: Pick<CallInput<E>, 'params' | 'query'> = {}): string {
  return (
    fillPath(endpoint.path, input.params as Record<string, unknown> | undefined) +
    queryString(input.query as Record<string, unknown> | undefined)
  );
}

/** A human sentence for any failure, naming the fields the server named. */
export function describeError(error: unknown): string {
  if (error instanceof ApiFailure) {
    const fields = error.details.map((d) => `${d.path.replace(/^body\./, '')} ${d.message}`);
    return fields.length ? `${error.message}: ${fields.join('; ')}` : error.message;
  }
  if (error instanceof TypeError) return 'Could not reach the server. Check your connection and try again.';
  return error instanceof Error ? error.message : String(error);
}
