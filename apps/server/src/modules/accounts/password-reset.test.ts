import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, cookieHeader, createTestContext, signupActor, uniqueEmail, type TestContext } from '../../test/harness.js';
import { captureMail, type MailMessage } from '../mail/mail.js';

// Far enough ahead that the hourly session clean-up (which uses the database clock) keeps test sessions.
const start = new Date('2030-06-10T09:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let ctx: TestContext;
let outbox: MailMessage[];
beforeAll(async () => {
  ctx = await createTestContext({ now: start });
  outbox = captureMail(ctx.services);
});
afterAll(async () => ctx?.close());

const requestReset = (email: string) => ctx.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email } });
const confirmReset = (token: string, password: string) => ctx.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, password } });
const login = (email: string, password: string) => ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });

async function mailsTo(email: string): Promise<MailMessage[]> {
  await ctx.services.queue.drain();
  return outbox.filter((m) => m.to === email);
}

/** Runs the mail jobs and returns the token of the newest reset link mailed to `email`. */
async function mailedResetToken(email: string): Promise<string> {
  // A partner's sign-up mails a verification link too; the jobs may deliver in either order.
  const mail = (await mailsTo(email)).filter((m) => m.subject === 'Reset your Tandem password').at(-1);
  expect(mail, `a reset mail to ${email}`).toBeDefined();
  const link = /http:\/\/tandem\.test\/reset-password\?token=([\w-]+)/.exec(mail!.text);
  expect(link, mail!.text).not.toBeNull();
  return decodeURIComponent(link![1]!);
}

async function portalSignup(email: string, password = 'squatter password') {
  const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/signup', payload: { email, password, name: 'Not Alice' } });
  expect(res.statusCode, res.body).toBe(201);
  return { userId: res.json().user.id as string, cookie: cookieHeader(res) };
}

describe('asking for a password reset', () => {
  it('answers an unknown and a known address alike, and mails only the known one', async () => {
    const known = uniqueEmail('known');
    await signupActor(ctx.app, { email: known });
    const unknown = uniqueEmail('nobody');
    const forKnown = await requestReset(known);
    const forUnknown = await requestReset(unknown);
    expect([forKnown.statusCode, forUnknown.statusCode]).toEqual([202, 202]);
    expect(forKnown.json()).toEqual({ email: known });
    expect(forUnknown.json()).toEqual({ email: unknown });
    expect(Object.keys(forKnown.headers).sort()).toEqual(Object.keys(forUnknown.headers).sort());
    expect(await mailsTo(unknown)).toEqual([]);
    const [mail] = await mailsTo(known);
    expect(mail!.subject).toBe('Reset your Tandem password');
    const stored = await ctx.pool.query('select token_hash from password_resets r join users u on u.id = r.user_id where u.email = $1', [known]);
    expect(stored.rows).toHaveLength(1);
    // Only the hash is kept: the mailed token is nowhere in the table.
    expect(stored.rows[0].token_hash).not.toBe(await mailedResetToken(known));
  });

  it('mails at most one link a minute and five a day, answering 202 all the same', async () => {
    const email = uniqueEmail('limited');
    await signupActor(ctx.app, { email });
    ctx.clock.set(start);
    try {
      for (let i = 0; i < 2; i++) expect((await requestReset(email)).statusCode).toBe(202);
      expect(await mailsTo(email)).toHaveLength(1);
      for (let i = 0; i < 6; i++) {
        ctx.clock.advance(MINUTE + 1000);
        expect((await requestReset(email)).statusCode).toBe(202);
      }
      expect(await mailsTo(email)).toHaveLength(5);
      ctx.clock.advance(24 * HOUR);
      await requestReset(email);
      expect(await mailsTo(email)).toHaveLength(6);
    } finally {
      ctx.clock.set(start);
    }
  });
});

describe('setting a password with a reset link', () => {
  it("gives a squatted address to its owner: the squatter's sessions end and the owner gets the partner rows", async () => {
    const alice = uniqueEmail('alice');
    const brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
    const api = asKey(ctx.app, brand.apiKey);
    const program = (await api('POST', '/api/v1/programs', { name: 'Acme Riders', currency: 'USD', destinationUrl: 'https://acme.example.com/', status: 'active' })).json();
    const added = (await api('POST', `/api/v1/programs/${program.id}/partners`, { email: alice, name: 'Alice Creator' })).json();
    // Someone who is not Alice signs up first with her address and never verifies it.
    const squatter = await portalSignup(alice);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/portal/email', headers: { cookie: squatter.cookie } })).statusCode).toBe(200);
    // Alice cannot sign up: the address is taken. She resets the password instead.
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/signup', payload: { email: alice, password: 'alice password', name: 'Alice' } })).statusCode).toBe(409);
    await requestReset(alice);
    const confirmed = await confirmReset(await mailedResetToken(alice), 'alice new password');
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json()).toEqual({ email: alice });
    // Linked by the reset itself, before any portal call (the account keeps its id: it is Alice's now).
    const linked = await ctx.pool.query('select user_id from partners where workspace_id = $1 and id = $2', [brand.workspaceId, added.partner.id]);
    expect(linked.rows[0].user_id).toBe(squatter.userId);

    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/portal/email', headers: { cookie: squatter.cookie } })).statusCode).toBe(401);
    expect((await login(alice, 'squatter password')).statusCode).toBe(401);
    const signedIn = await login(alice, 'alice new password');
    expect(signedIn.statusCode).toBe(200);
    const cookie = cookieHeader(signedIn);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/portal/email', headers: { cookie } })).json()).toMatchObject({ email: alice, emailVerified: true });
    const enrollments = (await ctx.app.inject({ method: 'GET', url: '/api/v1/portal/enrollments', headers: { cookie } })).json().data;
    expect(enrollments.map((e: { id: string }) => e.id)).toEqual([added.enrollment.id]);
  });

  it("works for a brand user too: its workspace stays, its other sessions end", async () => {
    const owner = await signupActor(ctx.app);
    await requestReset(owner.email);
    expect((await confirmReset(await mailedResetToken(owner.email), 'brand new password')).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: owner.cookie } })).statusCode).toBe(401);
    const signedIn = await login(owner.email, 'brand new password');
    expect(signedIn.json().workspaces.map((w: { id: string }) => w.id)).toEqual([owner.workspaceId]);
  });

  it('takes a link once, and spends the older links with it', async () => {
    const email = uniqueEmail('once');
    await signupActor(ctx.app, { email });
    await requestReset(email);
    const older = await mailedResetToken(email);
    ctx.clock.advance(2 * MINUTE);
    await requestReset(email);
    const newer = await mailedResetToken(email);
    expect((await confirmReset(newer, 'first new password')).statusCode).toBe(200);
    for (const token of [newer, older]) {
      const again = await confirmReset(token, 'second new password');
      expect(again.statusCode).toBe(422);
      expect(again.json()).toMatchObject({ error: { code: 'unprocessable', message: 'This password reset link was already used', details: [{ path: 'token', message: 'has already been used' }] } });
    }
    expect((await login(email, 'first new password')).statusCode).toBe(200);
  });

  it('refuses a link after its hour', async () => {
    const email = uniqueEmail('late');
    await signupActor(ctx.app, { email, password: 'the old password' });
    await requestReset(email);
    const token = await mailedResetToken(email);
    ctx.clock.advance(HOUR);
    const late = await confirmReset(token, 'a late new password');
    expect(late.statusCode).toBe(422);
    expect(late.json()).toMatchObject({ error: { message: 'This password reset link has expired; ask for a new one', details: [{ path: 'token', message: 'has expired' }] } });
    expect((await login(email, 'the old password')).statusCode).toBe(200);
  });

  it('answers a wrong token or a short password with a 422 on the field', async () => {
    const wrong = await confirmReset('not-a-token-anyone-was-ever-sent', 'a fine new password');
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json()).toEqual({ error: { code: 'unprocessable', message: 'This password reset link is not valid', details: [{ path: 'token', message: 'is not a password reset link' }] } });
    const short = await confirmReset('whatever', 'short');
    expect(short.statusCode).toBe(422);
    expect(short.json().error.details).toEqual([expect.objectContaining({ path: 'password' })]);
  });
});
