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
const confirmReset = (token: string, password: string, revokeApiKeys?: boolean) =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, password, ...(revokeApiKeys === undefined ? {} : { revokeApiKeys }) } });
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
    expect(confirmed.json()).toEqual({ email: alice, revokedApiKeys: 0, apiKeysToReview: 0 });
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
    const confirmed = await confirmReset(await mailedResetToken(owner.email), 'brand new password');
    expect(confirmed.statusCode).toBe(200);
    // Never verified (brand sign-up does not ask), so the sign-up key is pointed out, not revoked unasked:
    // a forgotten password must not stop the brand's tracking integration.
    expect(confirmed.json()).toEqual({ email: owner.email, revokedApiKeys: 0, apiKeysToReview: 1 });
    expect((await asKey(ctx.app, owner.apiKey)('GET', '/api/v1/me')).statusCode).toBe(200);
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

describe('API keys when a reset takes an address back', () => {
  const me = (key: string) => asKey(ctx.app, key)('GET', '/api/v1/me');
  const asSession = (actor: { cookie: string; csrf: string }) => (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    ctx.app.inject({ method, url, headers: { cookie: actor.cookie, 'x-csrf-token': actor.csrf }, ...(payload ? { payload } : {}) });

  async function resetBy(email: string, password: string, revokeApiKeys?: boolean) {
    await requestReset(email);
    const token = await mailedResetToken(email);
    return { token, res: await confirmReset(token, password, revokeApiKeys) };
  }

  /** Signs in with the new password and lists the keys of each workspace, by id. */
  async function keysSeenBy(email: string, password: string, workspaceId: string) {
    const signedIn = await login(email, password);
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const cookie = cookieHeader(signedIn);
    const csrf = signedIn.json().csrfToken;
    expect((await asSession({ cookie, csrf })('POST', '/api/v1/auth/switch-workspace', { workspaceId })).statusCode).toBe(200);
    const listed = await ctx.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: { cookie } });
    return new Map(listed.json().data.map((k: { id: string; revokedAt: string | null }) => [k.id, k.revokedAt]));
  }

  it("points out, without revoking, the keys a squatter may have made when the owner does not ask", async () => {
    const victim = uniqueEmail('victim-unasked');
    const squatter = await signupActor(ctx.app, { email: victim, password: 'squatter password', workspaceName: 'Squatted Unasked' });
    const second = await asKey(ctx.app, squatter.apiKey)('POST', '/api/v1/api-keys', { name: 'Second', scopes: ['read'] });
    expect(second.statusCode, second.body).toBe(201);
    const { res } = await resetBy(victim, 'victim new password');
    expect(res.json()).toEqual({ email: victim, revokedApiKeys: 0, apiKeysToReview: 2 });
    // Still valid until the owner revokes them in Settings, which it can do at once.
    expect((await me(squatter.apiKey)).statusCode).toBe(200);
    const signedIn = await login(victim, 'victim new password');
    const owner = { cookie: cookieHeader(signedIn), csrf: signedIn.json().csrfToken as string };
    const listed = (await ctx.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: { cookie: owner.cookie } })).json().data as { id: string }[];
    expect(listed).toHaveLength(2);
    for (const { id } of listed) expect((await asSession(owner)('DELETE', `/api/v1/api-keys/${id}`)).statusCode).toBeLessThan(300);
    expect((await me(squatter.apiKey)).statusCode).toBe(401);
    expect((await me(second.json().key)).statusCode).toBe(401);
  });

  it("revokes the squatter's keys of the workspace it made, and nobody else's, when the owner asks", async () => {
    const victim = uniqueEmail('victim');
    const otherBrand = await signupActor(ctx.app, { workspaceName: 'Other Brand' });
    // The squatter signs up with the victim's address (never verified) and makes a second key.
    const squatter = await signupActor(ctx.app, { email: victim, password: 'squatter password', workspaceName: 'Squatted' });
    const second = await asKey(ctx.app, squatter.apiKey)('POST', '/api/v1/api-keys', { name: 'Second', scopes: ['read', 'write'] });
    expect(second.statusCode, second.body).toBe(201);
    for (const key of [squatter.apiKey, second.json().key, otherBrand.apiKey]) expect((await me(key)).statusCode).toBe(200);

    const { token, res } = await resetBy(victim, 'victim new password', true);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ email: victim, revokedApiKeys: 2, apiKeysToReview: 0 });

    for (const key of [squatter.apiKey, second.json().key]) {
      const refused = await me(key);
      expect(refused.statusCode).toBe(401);
      expect((await asKey(ctx.app, key)('POST', '/api/v1/programs', { name: 'Still mine', currency: 'USD', destinationUrl: 'https://squat.example.com/' })).statusCode).toBe(401);
    }
    // Tenant isolation: another workspace's key is untouched.
    expect((await me(otherBrand.apiKey)).statusCode).toBe(200);

    // The workspace stays the owner's: it sees both keys revoked, and each revocation is audited.
    const keys = await keysSeenBy(victim, 'victim new password', squatter.workspaceId);
    expect([...keys.values()].every((revokedAt) => revokedAt !== null)).toBe(true);
    expect(keys.size).toBe(2);
    const audit = await ctx.pool.query<{ action: string; actor_kind: string; actor_id: string; target_id: string; after: unknown }>(
      `select action, actor_kind, actor_id, target_id, after from audit_log where workspace_id = $1 and action = 'api_key.revoked' order by target_id`,
      [squatter.workspaceId],
    );
    expect(audit.rows.map((r) => r.target_id).sort()).toEqual([...keys.keys()].sort());
    for (const row of audit.rows) {
      expect(row).toMatchObject({ actor_kind: 'user', actor_id: squatter.userId, after: { revoked: true, reason: 'password_reset' } });
    }
    const otherAudit = await ctx.pool.query(`select 1 from audit_log where workspace_id = $1 and action = 'api_key.revoked'`, [otherBrand.workspaceId]);
    expect(otherAudit.rowCount).toBe(0);

    // A key the owner makes after the reset works, and the spent link changes nothing.
    const signedIn = await login(victim, 'victim new password');
    const owner = { cookie: cookieHeader(signedIn), csrf: signedIn.json().csrfToken as string };
    const fresh = await asSession(owner)('POST', '/api/v1/api-keys', { name: 'Mine now', scopes: ['read'] });
    expect(fresh.statusCode, fresh.body).toBe(201);
    const again = await confirmReset(token, 'another new password');
    expect(again.statusCode).toBe(422);
    expect((await me(fresh.json().key)).statusCode).toBe(200);
    expect((await me(otherBrand.apiKey)).statusCode).toBe(200);
    const afterAgain = await ctx.pool.query(`select count(*)::int as n from audit_log where workspace_id = $1 and action = 'api_key.revoked'`, [squatter.workspaceId]);
    expect(afterAgain.rows[0].n).toBe(2);
    expect((await login(victim, 'victim new password')).statusCode).toBe(200);
  });

  it('keeps the keys of a user whose address was already verified, unless asked', async () => {
    const brand = await signupActor(ctx.app, { workspaceName: 'Verified Brand' });
    const session = asSession(brand);
    expect((await session('POST', '/api/v1/portal/email/resend')).statusCode).toBe(202);
    await ctx.services.queue.drain();
    const mail = outbox.filter((m) => m.to === brand.email).at(-1);
    const link = /verify-email\?token=([\w-]+)/.exec(mail!.text);
    expect((await session('POST', '/api/v1/portal/email/verify', { token: decodeURIComponent(link![1]!) })).statusCode).toBe(200);

    const { res } = await resetBy(brand.email, 'forgotten and reset');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ email: brand.email, revokedApiKeys: 0, apiKeysToReview: 0 });
    expect((await me(brand.apiKey)).statusCode).toBe(200);
    // Asked for, the keys go even though the address was verified (someone else may know the password).
    ctx.clock.advance(61_000); // one reset mail a minute
    const { res: asked } = await resetBy(brand.email, 'reset again, keys too', true);
    expect(asked.json()).toEqual({ email: brand.email, revokedApiKeys: 1, apiKeysToReview: 0 });
    expect((await me(brand.apiKey)).statusCode).toBe(401);
  });

  it("leaves the keys of a workspace someone else owns, and takes those of one where the user is the sole admin", async () => {
    const victim = uniqueEmail('victim-member');
    const squatter = await signupActor(ctx.app, { email: victim, password: 'squatter password', workspaceName: 'Squatted Too' });
    // Two brands invite the address as an admin, and the account (the squatter's, for now) accepts.
    const joined = [];
    for (const name of ['Owned Elsewhere', 'Ownerless']) {
      const brand = await signupActor(ctx.app, { workspaceName: name });
      const invited = await asKey(ctx.app, brand.apiKey)('POST', '/api/v1/invitations', { email: victim, role: 'admin' });
      const token = new URL(invited.json().acceptUrl).searchParams.get('token');
      const accepted = await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', headers: { cookie: squatter.cookie, 'x-csrf-token': squatter.csrf }, payload: { token } });
      expect(accepted.statusCode, accepted.body).toBe(200);
      // Accepting signs in to the workspace joined: the squatter makes a key there.
      const actor = { cookie: cookieHeader(accepted), csrf: accepted.json().csrfToken as string };
      const made = await asSession(actor)('POST', '/api/v1/api-keys', { name: 'Squatter in', scopes: ['read'] });
      expect(made.statusCode, made.body).toBe(201);
      joined.push({ brand, squatterKey: made.json().key as string });
    }
    const [ownedElsewhere, ownerless] = joined as [(typeof joined)[0], (typeof joined)[0]];
    // The second brand's owner is gone (its membership removed), so the account is its sole admin.
    await ctx.pool.query('delete from memberships where workspace_id = $1 and user_id = $2', [ownerless.brand.workspaceId, ownerless.brand.userId]);

    const { res } = await resetBy(victim, 'victim new password', true);
    expect(res.json()).toEqual({ email: victim, revokedApiKeys: 3, apiKeysToReview: 0 });
    expect((await me(squatter.apiKey)).statusCode).toBe(401);
    expect((await me(ownerless.brand.apiKey)).statusCode).toBe(401);
    expect((await me(ownerless.squatterKey)).statusCode).toBe(401);
    // A workspace with another owner is that owner's: none of its keys is touched.
    expect((await me(ownedElsewhere.brand.apiKey)).statusCode).toBe(200);
    expect((await me(ownedElsewhere.squatterKey)).statusCode).toBe(200);
  });
});
