import { afterAll, beforeAll, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, uniqueEmail, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

const browser = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36' };

it('a new attribution window reaches the redirect cache at once: the click cookie lives as long as the window', async () => {
  const brand = await signupActor(ctx.app);
  const api = asKey(ctx.app, brand.apiKey);
  const programId = (await api('POST', '/api/v1/programs', { name: 'Window', currency: 'USD', destinationUrl: 'https://shop.example.com/', attribution: { windowDays: 30 } })).json().id;
  const { link } = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail('win'), name: 'Wyn' })).json();
  const maxAge = async (ip: string) => {
    const res = await ctx.app.inject({ method: 'GET', url: `/r/${link.key}`, headers: browser, remoteAddress: ip });
    expect(res.statusCode).toBe(302);
    return res.cookies.find((c) => c.name === 'tdm_click')?.maxAge;
  };
  expect(await maxAge('198.51.100.1')).toBe(30 * 86_400); // cached now
  expect((await api('PATCH', `/api/v1/programs/${programId}`, { attribution: { windowDays: 7 } })).statusCode).toBe(200);
  await expect.poll(() => maxAge(`198.51.100.${2 + Math.floor(Math.random() * 200)}`), { timeout: 3000 }).toBe(7 * 86_400);
});

it('a change to one attribution setting keeps the other as it was', async () => {
  const brand = await signupActor(ctx.app);
  const api = asKey(ctx.app, brand.apiKey);
  const created = await api('POST', '/api/v1/programs', { name: 'Partial', currency: 'USD', destinationUrl: 'https://shop.example.com/', attribution: { windowDays: 90, model: 'first_touch' } });
  const programId = created.json().id;
  const modelOnly = await api('PATCH', `/api/v1/programs/${programId}`, { attribution: { model: 'last_touch' } });
  expect(modelOnly.json().attribution).toEqual({ windowDays: 90, model: 'last_touch' });
  await api('PATCH', `/api/v1/programs/${programId}`, { attribution: { model: 'first_touch' } });
  const windowOnly = await api('PATCH', `/api/v1/programs/${programId}`, { attribution: { windowDays: 60 } });
  expect(windowOnly.json().attribution).toEqual({ windowDays: 60, model: 'first_touch' });
});
