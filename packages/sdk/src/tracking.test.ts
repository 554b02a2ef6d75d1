import { describe, expect, it } from 'vitest';
import { ApiError } from '@tandem/contracts';
import { createTracking } from './tracking.js';

function fakeFetch(answers: (() => Response)[]) {
  const calls: { url: string; body: unknown }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, body: JSON.parse(String(init.body)) });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return next();
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}
const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status });
const networkDown = () => {
  throw new TypeError('fetch failed');
};

describe('createTracking', () => {
  it('posts a sale to track/sale and returns the parsed result', async () => {
    const { fetch, calls } = fakeFetch([
      json(200, { sale: { id: 'sal_1' }, customer: { id: 'cus_1', externalId: 'u1' }, attributed: true, partnerId: 'ptn_1' }),
    ]);
    const tracking = createTracking({ baseUrl: 'http://tandem.test', apiKey: 'k', fetch });
    const result = await tracking.trackSale({ customer: { externalId: 'u1' }, amount: 4900, currency: 'USD', invoiceId: 'in_1' });
    expect(result.partnerId).toBe('ptn_1');
    expect(calls).toEqual([
      {
        url: 'http://tandem.test/api/v1/track/sale',
        body: { customer: { externalId: 'u1' }, amount: 4900, currency: 'USD', invoiceId: 'in_1' },
      },
    ]);
  });

  it('retries an idempotent lead after a network error or a 5xx, with the same body', async () => {
    const { fetch, calls } = fakeFetch([
      networkDown,
      json(503, { error: { code: 'internal', message: 'down' } }),
      json(200, {
        customer: { id: 'cus_1', externalId: 'u1' },
        lead: { id: 'led_1', eventName: 'sign_up' },
        attributed: false,
        partnerId: null,
      }),
    ]);
    const tracking = createTracking({ baseUrl: 'http://tandem.test', apiKey: 'k', fetch, retryDelayMs: 1 });
    expect((await tracking.trackLead({ customer: { externalId: 'u1' } })).lead.id).toBe('led_1');
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => JSON.stringify(c.body))).size).toBe(1);
  });

  it('does not retry a refused call (4xx) nor a refund (not idempotent)', async () => {
    const refused = fakeFetch([
      json(422, { error: { code: 'unprocessable', message: 'bad', details: [{ path: 'amount', message: 'x' }] } }),
    ]);
    const a = createTracking({ baseUrl: 'http://tandem.test', apiKey: 'k', fetch: refused.fetch, retryDelayMs: 1 });
    await expect(a.trackSale({ customer: { externalId: 'u' }, amount: 1, currency: 'USD', invoiceId: 'i' })).rejects.toBeInstanceOf(
      ApiError,
    );
    expect(refused.calls).toHaveLength(1);

    const failing = fakeFetch([json(500, { error: { code: 'internal', message: 'x' } }), json(200, {})]);
    const b = createTracking({ baseUrl: 'http://tandem.test', apiKey: 'k', fetch: failing.fetch, retryDelayMs: 1 });
    await expect(b.trackRefund({ invoiceId: 'i' })).rejects.toMatchObject({ status: 500 });
    expect(failing.calls).toHaveLength(1);
  });
});
