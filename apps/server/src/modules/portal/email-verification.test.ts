import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { asKey, cookieHeader, createTestContext, signupActor, uniqueEmail, type TestContext } from '../../test/harness.js';
import { captureMail, logTransport, type MailMessage } from '../mail/mail.js';

// Far enough ahead that the hourly session clean-up (which uses the database clock) keeps test sessions.
const start = new Date('2030-06-10T09:00:00Z');
const HOUR = 3_600_000;

let ctx: TestContext;
let api: ReturnType<typeof asKey>;
let brandWorkspaceId: string;
let programId: string;
let outbox: MailMessage[];
beforeAll(async () => {
  ctx = await createTestContext({ now: start });
  outbox = captureMail(ctx.services);
  const brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
  brandWorkspaceId = brand.workspaceId;
  api = asKey(ctx.app, brand.apiKey);
  programId = (
    await api('POST', '/api/v1/programs', { name: 'Acme Riders', currency: 'USD', destinationUrl: 'https://acme.example.com/', terms: { text: 'v1' }, status: 'active' })
  ).json().id;
});
afterAll(async () => ctx?.close());

interface PortalUser {
  email: string;
  userId: string;
  get(url: string): Promise<LightMyRequestResponse>;
  post(url: string, payload?: object): Promise<LightMyRequestResponse>;
}

async function portalSignup(email: string): Promise<PortalUser> {
  const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/signup', payload: { email, password: 'partner password', name: 'Pat Partner' } });
  expect(res.statusCode, res.body).toBe(201);
  const cookie = cookieHeader(res);
  const csrf = res.json().csrfToken;
  return {
    email,
    userId: res.json().user.id,
    get: (url) => ctx.app.inject({ method: 'GET', url, headers: { cookie } }),
    post: (url, payload) => ctx.app.inject({ method: 'POST', url, headers: { cookie, 'x-csrf-token': csrf }, ...(payload ? { payload } : {}) }),
  };
}

/** Runs the mail jobs and returns the token of the newest link mailed to `email`. */
async function mailedToken(email: string): Promise<string> {
  await ctx.services.queue.drain();
  const mail = outbox.filter((m) => m.to === email).at(-1);
  expect(mail, `a mail to ${email}`).toBeDefined();
  const link = /http:\/\/tandem\.test\/portal\/verify-email\?token=([\w-]+)/.exec(mail!.text);
  expect(link, mail!.text).not.toBeNull();
  return decodeURIComponent(link![1]!);
}

const addPartner = async (email: string) => (await api('POST', `/api/v1/programs/${programId}/partners`, { email, name: 'Alice Creator' })).json();
const enrollmentIds = async (user: PortalUser) => (await user.get('/api/v1/portal/enrollments')).json().data.map((e: { id: string }) => e.id);
const verify = (user: PortalUser, token: string) => user.post('/api/v1/portal/email/verify', { token });

describe('an unverified portal user', () => {
  it('sees none of the partner rows under its email and cannot act on them', async () => {
    const email = uniqueEmail('alice');
    const added = await addPartner(email);
    // Someone who is not Alice signs up first with Alice's address.
    const squatter = await portalSignup(email);
    expect((await squatter.get('/api/v1/portal/email')).json()).toEqual({ email, emailVerified: false, emailVerifiedAt: null });
    expect(await enrollmentIds(squatter)).toEqual([]);
    const id = added.enrollment.id;
    expect((await squatter.post(`/api/v1/portal/enrollments/${id}/accept-terms`)).statusCode).toBe(404);
    for (const path of ['welcome-kit', 'milestones', 'calendar.ics', 'balance', 'commissions', 'earnings', 'statement', 'statement.csv']) {
      expect((await squatter.get(`/api/v1/portal/enrollments/${id}/${path}`)).statusCode, path).toBe(404);
    }
    expect((await squatter.get('/api/v1/portal/disputes')).json().data).toEqual([]);
    const dispute = { kind: 'missing_credit', programId, orderId: 'INV-1', customerEmail: 'buyer@example.com', saleDate: '2030-06-01', message: 'Missing' };
    expect((await squatter.post('/api/v1/portal/disputes', dispute)).statusCode).toBe(403);
    const linked = await ctx.pool.query('select user_id from partners where workspace_id = $1 and id = $2', [brandWorkspaceId, added.partner.id]);
    expect(linked.rows[0].user_id).toBeNull();
  });

  it('is not given the rows a brand adds under its email after it signed up, until it verifies', async () => {
    const email = uniqueEmail('bea');
    const squatter = await portalSignup(email);
    // Every way a brand creates a partner row goes through upsertPartner: adding one, importing, a public application.
    const added = await addPartner(email);
    const { rows } = await ctx.pool.query('select user_id from partners where workspace_id = $1 and id = $2', [brandWorkspaceId, added.partner.id]);
    expect(rows[0].user_id).toBeNull();
    expect(await enrollmentIds(squatter)).toEqual([]);
    expect((await squatter.get(`/api/v1/portal/enrollments/${added.enrollment.id}/welcome-kit`)).statusCode).toBe(404);
    // The address's owner verifies: the row is theirs.
    expect((await verify(squatter, await mailedToken(email))).statusCode).toBe(200);
    expect(await enrollmentIds(squatter)).toEqual([added.enrollment.id]);
  });
});

describe('verifying the email', () => {
  it('mails a link at sign-up; redeeming it as the signed-in user links the rows, which can then be acted on', async () => {
    const email = uniqueEmail('verified');
    const added = await addPartner(email);
    const partner = await portalSignup(email);
    const token = await mailedToken(email);
    expect(outbox.find((m) => m.to === email)?.subject).toMatch(/confirm your email/i);

    const res = await verify(partner, token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ email, emailVerified: true, emailVerifiedAt: start.toISOString() });
    expect(await enrollmentIds(partner)).toEqual([added.enrollment.id]);
    expect((await partner.post(`/api/v1/portal/enrollments/${added.enrollment.id}/accept-terms`)).statusCode).toBe(200);
    // Rows a brand adds later still link, now that the address is proved.
    const other = await signupActor(ctx.app, { workspaceName: 'Other Brand' });
    const otherApi = asKey(ctx.app, other.apiKey);
    const otherProgram = (await otherApi('POST', '/api/v1/programs', { name: 'Other', currency: 'EUR', destinationUrl: 'https://other.example.com/' })).json();
    const later = (await otherApi('POST', `/api/v1/programs/${otherProgram.id}/partners`, { email, name: 'Alice at Other' })).json();
    expect((await enrollmentIds(partner)).sort()).toEqual([added.enrollment.id, later.enrollment.id].sort());
  });

  it('keeps the token only as a hash: neither its table nor the queued mail holds it in clear', async () => {
    const email = uniqueEmail('hashed');
    await portalSignup(email);
    const { rows: jobs } = await ctx.pool.query<{ payload: unknown }>(`select payload from jobs where queue = 'mail.send' and status = 'queued'`);
    const token = await mailedToken(email);
    const { rows } = await ctx.pool.query('select token_hash from email_verifications v join users u on u.id = v.user_id where u.email = $1', [email]);
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toBe(token);
    expect(jobs.length).toBeGreaterThan(0);
    expect(JSON.stringify(jobs)).not.toContain(token);
    expect(JSON.stringify(jobs)).not.toContain(email);
  });

  it('takes a token once only', async () => {
    const email = uniqueEmail('once');
    const partner = await portalSignup(email);
    const token = await mailedToken(email);
    expect((await verify(partner, token)).statusCode).toBe(200);
    const again = await verify(partner, token);
    expect(again.statusCode).toBe(422);
    expect(again.json()).toMatchObject({ error: { code: 'unprocessable', message: 'This verification link was already used', details: [{ path: 'token', message: 'has already been used' }] } });
  });

  it('refuses a token after 24 hours, and a new link works', async () => {
    ctx.clock.set(start);
    const email = uniqueEmail('late');
    const added = await addPartner(email);
    const partner = await portalSignup(email);
    const token = await mailedToken(email);
    ctx.clock.advance(24 * HOUR + 1000);
    const late = await verify(partner, token);
    expect(late.statusCode).toBe(422);
    expect(late.json()).toMatchObject({ error: { message: 'This verification link has expired; ask for a new one', details: [{ path: 'token', message: 'has expired' }] } });
    expect(await enrollmentIds(partner)).toEqual([]);

    expect((await partner.post('/api/v1/portal/email/resend')).statusCode).toBe(202);
    const fresh = await mailedToken(email);
    expect(fresh).not.toBe(token);
    expect((await verify(partner, fresh)).statusCode).toBe(200);
    expect(await enrollmentIds(partner)).toEqual([added.enrollment.id]);
    ctx.clock.set(start);
  });

  it('answers a wrong token with a clear 422 on the token field', async () => {
    const partner = await portalSignup(uniqueEmail('wrong'));
    const res = await verify(partner, 'not-a-token-anyone-was-ever-sent');
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      error: { code: 'unprocessable', message: 'This verification link is not valid for your account', details: [{ path: 'token', message: 'is not a verification link of the signed-in account' }] },
    });
    expect((await verify(partner, 'short')).statusCode).toBe(422);
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/email/verify', payload: { token: 'x'.repeat(40) } })).statusCode).toBe(401);
  });

  it('does not let one user redeem another user’s token, nor spend it', async () => {
    const aliceEmail = uniqueEmail('alice-own');
    const added = await addPartner(aliceEmail);
    const alice = await portalSignup(aliceEmail);
    const mallory = await portalSignup(uniqueEmail('mallory'));
    const alicesToken = await mailedToken(aliceEmail);

    const stolen = await verify(mallory, alicesToken);
    expect(stolen.statusCode).toBe(422);
    expect(stolen.json().error.message).toBe('This verification link is not valid for your account');
    expect((await mallory.get('/api/v1/portal/email')).json().emailVerified).toBe(false);
    expect((await alice.get('/api/v1/portal/email')).json().emailVerified).toBe(false);
    expect(await enrollmentIds(mallory)).toEqual([]);

    expect((await verify(alice, alicesToken)).statusCode).toBe(200);
    expect(await enrollmentIds(alice)).toEqual([added.enrollment.id]);
    expect(await enrollmentIds(mallory)).toEqual([]);
  });

  it('links only the rows under the verified address, in any brand', async () => {
    const email = uniqueEmail('own-rows');
    const mine = await addPartner(email);
    const someoneElse = await addPartner(uniqueEmail('someone-else'));
    const partner = await portalSignup(email);
    await verify(partner, await mailedToken(email));
    expect(await enrollmentIds(partner)).toEqual([mine.enrollment.id]);
    expect((await partner.get(`/api/v1/portal/enrollments/${someoneElse.enrollment.id}/welcome-kit`)).statusCode).toBe(404);
  });
});

describe('resending the link', () => {
  it('mails a new link at most once a minute and five times a day, and not once verified', async () => {
    ctx.clock.set(start);
    const email = uniqueEmail('resend');
    const partner = await portalSignup(email);
    await ctx.services.queue.drain();
    const mailsTo = () => outbox.filter((m) => m.to === email).length;
    expect(mailsTo()).toBe(1);

    const tooSoon = await partner.post('/api/v1/portal/email/resend');
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.json().error.message).toBe('A link was sent moments ago; ask again in 60s');
    for (let i = 0; i < 4; i++) {
      ctx.clock.advance(61_000);
      const res = await partner.post('/api/v1/portal/email/resend');
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toEqual({ email, emailVerified: false, emailVerifiedAt: null });
    }
    ctx.clock.advance(61_000);
    const sixth = await partner.post('/api/v1/portal/email/resend');
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().error.message).toBe('At most 5 links a day; try again tomorrow');
    await ctx.services.queue.drain();
    expect(mailsTo()).toBe(5);

    // Every link mailed is good until one is used; then the others are spent too.
    ctx.clock.advance(24 * HOUR);
    expect((await partner.post('/api/v1/portal/email/resend')).statusCode).toBe(202);
    const token = await mailedToken(email);
    expect((await verify(partner, token)).statusCode).toBe(200);
    const open = await ctx.pool.query('select count(*)::int as n from email_verifications where user_id = $1 and used_at is null', [partner.userId]);
    expect(open.rows[0].n).toBe(0);
    expect((await partner.post('/api/v1/portal/email/resend')).statusCode).toBe(409);
    ctx.clock.set(start);
  });
});

describe('mail without SMTP', () => {
  it('is written to the log at info level, link included', async () => {
    const lines: { level: string; data: unknown; message: string }[] = [];
    const log = { info: (data: unknown, message: string) => lines.push({ level: 'info', data, message }) } as never;
    await logTransport(log).send({ to: 'pat@example.com', subject: 'Confirm', text: 'Open http://tandem.test/portal/verify-email?token=abc' });
    expect(lines).toEqual([
      { level: 'info', data: { mail: { to: 'pat@example.com', subject: 'Confirm', text: 'Open http://tandem.test/portal/verify-email?token=abc' } }, message: expect.stringContaining('pat@example.com') },
    ]);
  });
});
