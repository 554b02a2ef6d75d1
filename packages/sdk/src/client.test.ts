import { describe, expect, it } from 'vitest';
import { ApiError } from '@tandem/contracts';
import { createClient } from './client.js';

describe('createClient', () => {
  it('fills path params and query, sends the key, parses JSON', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const client = createClient({
      baseUrl: 'http://tandem.test/',
      apiKey: 'tdm_sk_x',
      fetch: (async (url: string, init: RequestInit) => {
        seen.push({ url, init });
        return new Response(url.includes('/api-keys?') ? JSON.stringify({ data: [], nextCursor: null }) : null, { status: url.includes('?') ? 200 : 204 });
      }) as typeof fetch,
    });
    expect(await client.call('listApiKeys', { query: { limit: 5 } })).toEqual({ data: [], nextCursor: null });
    await client.call('revokeApiKey', { params: { id: 'key_1' } });
    expect(seen.map((s) => `${s.init.method} ${s.url}`)).toEqual(['GET http://tandem.test/api/v1/api-keys?limit=5', 'DELETE http://tandem.test/api/v1/api-keys/key_1']);
    expect((seen[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer tdm_sk_x');
  });

  it('throws ApiError with the server’s code and details', async () => {
    const client = createClient({
      baseUrl: 'http://tandem.test',
      apiKey: 'k',
      fetch: (async () => new Response(JSON.stringify({ error: { code: 'unprocessable', message: 'bad', details: [{ path: 'name', message: 'is required' }] } }), { status: 422 })) as unknown as typeof fetch,
    });
    const error = await client.call('createApiKey', { body: { name: '', scopes: ['read'] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'unprocessable', status: 422, details: [{ path: 'name', message: 'is required' }] });
  });
});
