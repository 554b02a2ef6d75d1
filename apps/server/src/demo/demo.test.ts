import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/harness.js';
import { DEMO_EMAIL, DEMO_PASSWORD, seedDemo } from './demo.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

it('seeds the demo idempotently; each run prints a working key and revokes the previous one', async () => {
  const first = await seedDemo(ctx.services);
  const second = await seedDemo(ctx.services);
  expect(first.created).toBe(true);
  expect(second.created).toBe(false);
  expect(second.workspaceId).toBe(first.workspaceId);
  const me = (key: string) => ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${key}` } });
  expect((await me(second.apiKey)).statusCode).toBe(200);
  expect((await me(first.apiKey)).statusCode).toBe(401);
  const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: DEMO_EMAIL, password: DEMO_PASSWORD } });
  expect(login.statusCode).toBe(200);
  const { rows } = await ctx.pool.query('select count(*)::int as n from workspaces');
  expect(rows[0].n).toBe(1);
});
