import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestContext, uniqueEmail, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ env: { TANDEM_TRUST_PROXY: '1', TANDEM_PUBLIC_URL: '' } });
});
afterAll(async () => ctx?.close());

const signup = (headers: Record<string, string>) =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/auth/signup', headers, payload: { email: uniqueEmail(), password: 'long enough pw', name: 'S', workspaceName: 'Secure Co' } });

it('marks session cookies Secure behind HTTPS and not over plain HTTP', async () => {
  const overHttps = await signup({ 'x-forwarded-proto': 'https' });
  expect(overHttps.cookies.find((c) => c.name === 'tandem_session')).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax' });
  const overHttp = await signup({});
  expect(overHttp.cookies.find((c) => c.name === 'tandem_session')?.secure).toBeFalsy();
  // The CSRF cookie must be readable by the page's script.
  expect(overHttp.cookies.find((c) => c.name === 'tandem_csrf')?.httpOnly).toBeFalsy();
});
