import type { z } from 'zod';
import { ApiError, endpoints, type Endpoint, type ErrorBody, type Endpoints } from '@tandem/contracts';

type Args<E> = (E extends { params: infer P extends z.ZodType } ? { params: z.input<P> } : { params?: never }) &
  (E extends { body: infer B extends z.ZodType } ? { body: z.input<B> } : { body?: never }) &
  (E extends { query: infer Q extends z.ZodType } ? { query?: Partial<z.input<Q>> } : { query?: never });
type Result<E> = E extends { response: infer R extends z.ZodType } ? z.output<R> : void;

export interface ClientOptions {
  /** Where Tandem runs, e.g. `https://tandem.example.com`. */
  baseUrl: string;
  /** A workspace secret key (`tdm_sk_…`). Keep it on the server. */
  apiKey: string;
  fetch?: typeof fetch;
}

/**
 * A typed client for every endpoint of the Tandem API, derived from the same contracts the server
 * validates with: a wrong field name or type is a compile error, a refused call throws `ApiError`
 * with the server's code and field details.
 *
 * @example
 * const tandem = createClient({ baseUrl: 'http://localhost:3000', apiKey: process.env.TANDEM_KEY! });
 * const me = await tandem.call('me', {});
 */
export function createClient(options: ClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');
  async function call<K extends keyof Endpoints>(name: K, args: Args<Endpoints[K]>): Promise<Result<Endpoints[K]>> {
    const endpoint: Endpoint = endpoints[name];
    const a = args as { params?: Record<string, string>; body?: unknown; query?: Record<string, unknown> };
    let path = endpoint.path.replace(/:([A-Za-z0-9_]+)/g, (_, key: string) => encodeURIComponent(String(a.params?.[key] ?? '')));
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(a.query ?? {})) if (v !== undefined) search.set(k, String(v));
    if ([...search].length) path += `?${search}`;
    const res = await doFetch(`${base}${path}`, {
      method: endpoint.method,
      headers: { authorization: `Bearer ${options.apiKey}`, ...(a.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: a.body !== undefined ? JSON.stringify(a.body) : undefined,
    });
    if (res.status === 204) return undefined as Result<Endpoints[K]>;
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const err = (json as ErrorBody | undefined)?.error;
      throw new ApiError(err?.code ?? 'internal', err?.message ?? `HTTP ${res.status}`, err?.details, res.status);
    }
    return json as Result<Endpoints[K]>;
  }
  return { call };
}
