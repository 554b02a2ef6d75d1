import type { TestContext } from '../../test/harness.js';
import { createVerificationToken } from '../accounts/email-verification.js';

/**
 * Verifies a portal user's email through the real endpoint, with a token made here instead of the
 * one mailed at sign-up: for tests whose subject is what a verified partner can do (the mail path
 * itself is tested in email-verification.test.ts).
 */
export async function verifyPortalEmailForTest(ctx: Pick<TestContext, 'app' | 'services'>, user: { userId: string; email: string; cookie: string; csrf: string }): Promise<void> {
  const token = await createVerificationToken(ctx.services.pool, { id: user.userId, email: user.email }, ctx.services.now());
  const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/email/verify', headers: { cookie: user.cookie, 'x-csrf-token': user.csrf }, payload: { token } });
  if (res.statusCode !== 200) throw new Error(`email verification failed: ${res.statusCode} ${res.body}`);
}
