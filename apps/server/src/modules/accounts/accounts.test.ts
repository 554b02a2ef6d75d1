import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, cookieHeader, createTestContext, signupActor, uniqueEmail, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

const signup = (payload: Record<string, unknown>) => ctx.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload });

describe('signup', () => {
  it('creates user, workspace, an all-scope API key and a session cookie', async () => {
    const email = uniqueEmail('Owner');
    const res = await signup({ email, password: 'long enough pw', name: 'Ada', workspaceName: 'Acme Bikes' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toEqual({ id: expect.stringMatching(/^usr_/), email: email.toLowerCase(), name: 'Ada' });
    expect(body.workspace).toMatchObject({ id: expect.stringMatching(/^ws_/), name: 'Acme Bikes', slug: expect.stringMatching(/^acme-bikes/) });
    expect(body.apiKey).toMatch(/^tdm_sk_/);
    const session = res.cookies.find((c) => c.name === 'tandem_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    const me = await asKey(ctx.app, body.apiKey)('GET', '/api/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.json().auth.scopes).toEqual(['read', 'write', 'admin']);
  });

  it('rejects a weak password with 422 naming the field', async () => {
    const res = await signup({ email: uniqueEmail(), password: 'short', name: 'A', workspaceName: 'W' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'unprocessable', details: [{ path: 'password', message: expect.stringContaining('10') }] });
  });

  it('rejects a duplicate email with 409, case-insensitively', async () => {
    const email = uniqueEmail();
    expect((await signup({ email, password: 'long enough pw', name: 'A', workspaceName: 'W' })).statusCode).toBe(201);
    const again = await signup({ email: email.toUpperCase(), password: 'long enough pw', name: 'B', workspaceName: 'W2' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('conflict');
  });

  it('names every bad and unknown field', async () => {
    const res = await signup({ email: 'not-an-email', password: 'long enough pw', name: '', workspaceName: 'W', plan: 'pro' });
    expect(res.statusCode).toBe(422);
    const paths = res.json().error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['email', 'name', 'plan']);
  });

  it('gives two workspaces with the same name distinct slugs', async () => {
    const a = await signupActor(ctx.app, { workspaceName: 'Same Name Co' });
    const b = await signupActor(ctx.app, { workspaceName: 'Same Name Co' });
    expect(a.workspaceSlug).not.toBe(b.workspaceSlug);
  });
});

describe('request hygiene', () => {
  it('answers malformed JSON with 400, never 500', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email": ' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('bad_request');
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(1024 * 1024 + 10) }) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('bad_request');
  });

  it('answers unknown API routes with a JSON 404', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
  });

  it('echoes a request id', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(res.json()).toEqual({ status: 'ok', db: expect.stringMatching(/embedded|external/) });
  });
});

describe('login, logout and sessions', () => {
  it('logs in, serves /me from the cookie, logs out', async () => {
    const actor = await signupActor(ctx.app, { password: 'my password 1' });
    const wrong = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: actor.email, password: 'not it at all' } });
    expect(wrong.statusCode).toBe(401);
    const unknown = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: uniqueEmail(), password: 'whatever123' } });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error.message).toBe(wrong.json().error.message);

    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: actor.email, password: 'my password 1' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().workspaces).toEqual([expect.objectContaining({ id: actor.workspaceId, role: 'owner' })]);
    const cookie = cookieHeader(res);
    const me = await ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie } });
    expect(me.json()).toMatchObject({ user: { email: actor.email }, workspace: { id: actor.workspaceId, role: 'owner' }, auth: { kind: 'session' } });

    const csrf = res.json().csrfToken;
    const out = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBe(204);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie } })).statusCode).toBe(401);
  });

  it('refuses cookie-authenticated writes without the CSRF token', async () => {
    const actor = await signupActor(ctx.app);
    const payload = { name: 'ci', scopes: ['read'] };
    const without = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { cookie: actor.cookie }, payload });
    expect(without.statusCode).toBe(403);
    const wrong = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { cookie: actor.cookie, 'x-csrf-token': 'nope' }, payload });
    expect(wrong.statusCode).toBe(403);
    const ok = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { cookie: actor.cookie, 'x-csrf-token': actor.csrf }, payload });
    expect(ok.statusCode).toBe(201);
  });

  it('answers 401 without credentials', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Bearer tdm_sk_madeup' } })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Basic abc' } })).statusCode).toBe(401);
  });
});

describe('API keys', () => {
  it('shows a key once, lists without secrets, and a revoked key stops at once', async () => {
    const actor = await signupActor(ctx.app);
    const call = asKey(ctx.app, actor.apiKey);
    const created = await call('POST', '/api/v1/api-keys', { name: 'reporting', scopes: ['read'] });
    expect(created.statusCode).toBe(201);
    const { id, key } = created.json();
    expect(key).toMatch(/^tdm_sk_/);
    const list = await call('GET', '/api/v1/api-keys');
    expect(list.json().data).toHaveLength(2);
    expect(JSON.stringify(list.json())).not.toContain(key);
    expect((await asKey(ctx.app, key)('GET', '/api/v1/me')).statusCode).toBe(200);
    expect((await call('DELETE', `/api/v1/api-keys/${id}`)).statusCode).toBe(204);
    const after = await asKey(ctx.app, key)('GET', '/api/v1/me');
    expect(after.statusCode).toBe(401);
    expect(after.json().error.message).toContain('revoked');
  });

  it('a key revoked on one node stops working on another node too, though that node had it cached', async () => {
    const otherNode = await createTestContext({ databaseUrl: ctx.databaseUrl });
    try {
      const actor = await signupActor(ctx.app);
      const { id, key } = (await asKey(ctx.app, actor.apiKey)('POST', '/api/v1/api-keys', { name: 'ci', scopes: ['read'] })).json();
      // Used on the other node: cached there from now on.
      expect((await asKey(otherNode.app, key)('GET', '/api/v1/me')).statusCode).toBe(200);
      expect((await asKey(otherNode.app, key)('GET', '/api/v1/me')).statusCode).toBe(200);
      expect((await asKey(ctx.app, actor.apiKey)('DELETE', `/api/v1/api-keys/${id}`)).statusCode).toBe(204);
      // The revocation reaches the other node as a notification a moment after the commit.
      const deadline = Date.now() + 2_000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        status = (await asKey(otherNode.app, key)('GET', '/api/v1/me')).statusCode;
        if (status === 200) await new Promise((r) => setTimeout(r, 10));
      }
      expect(status).toBe(401);
    } finally {
      await otherNode.close();
    }
  });

  it('revoking an unknown or another workspace\'s key is a 404', async () => {
    const a = await signupActor(ctx.app);
    const b = await signupActor(ctx.app);
    const { id } = (await asKey(ctx.app, a.apiKey)('POST', '/api/v1/api-keys', { name: 'mine', scopes: ['read'] })).json();
    expect((await asKey(ctx.app, b.apiKey)('DELETE', `/api/v1/api-keys/${id}`)).statusCode).toBe(404);
    expect((await asKey(ctx.app, b.apiKey)('DELETE', '/api/v1/api-keys/key_unknown')).statusCode).toBe(404);
  });

  it('enforces scopes: a read key cannot create keys', async () => {
    const actor = await signupActor(ctx.app);
    const readKey = (await asKey(ctx.app, actor.apiKey)('POST', '/api/v1/api-keys', { name: 'ro', scopes: ['read'] })).json().key;
    const res = await asKey(ctx.app, readKey)('POST', '/api/v1/api-keys', { name: 'escalate', scopes: ['admin'] });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toContain('admin');
  });

  it('validates scopes and paginates', async () => {
    const actor = await signupActor(ctx.app);
    const call = asKey(ctx.app, actor.apiKey);
    const bad = await call('POST', '/api/v1/api-keys', { name: 'x', scopes: ['root'] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details[0].path).toBe('scopes.0');
    for (let i = 0; i < 4; i++) await call('POST', '/api/v1/api-keys', { name: `k${i}`, scopes: ['read'] });
    const first = (await call('GET', '/api/v1/api-keys?limit=2')).json();
    expect(first.data).toHaveLength(2);
    const second = (await call('GET', `/api/v1/api-keys?limit=2&cursor=${first.nextCursor}`)).json();
    const third = (await call('GET', `/api/v1/api-keys?limit=2&cursor=${second.nextCursor}`)).json();
    const ids = [...first.data, ...second.data, ...third.data].map((k: { id: string }) => k.id);
    expect(new Set(ids).size).toBe(5);
    expect(third.nextCursor).toBeNull();
    expect((await call('GET', '/api/v1/api-keys?limit=500')).statusCode).toBe(422);
    expect((await call('GET', '/api/v1/api-keys?cursor=garbage')).statusCode).toBe(422);
  });

  it('keeps workspaces apart: another workspace’s key id is 404', async () => {
    const a = await signupActor(ctx.app);
    const b = await signupActor(ctx.app);
    const keyOfA = (await asKey(ctx.app, a.apiKey)('POST', '/api/v1/api-keys', { name: 'a', scopes: ['read'] })).json();
    const res = await asKey(ctx.app, b.apiKey)('DELETE', `/api/v1/api-keys/${keyOfA.id}`);
    expect(res.statusCode).toBe(404);
    expect((await asKey(ctx.app, keyOfA.key)('GET', '/api/v1/me')).statusCode).toBe(200);
    const listB = (await asKey(ctx.app, b.apiKey)('GET', '/api/v1/api-keys')).json();
    expect(listB.data.map((k: { id: string }) => k.id)).not.toContain(keyOfA.id);
  });
});

describe('teammates', () => {
  it('an expired invitation does not stop a new one for the same email', async () => {
    const owner = await signupActor(ctx.app);
    const call = asKey(ctx.app, owner.apiKey);
    const email = uniqueEmail('late');
    const first = await call('POST', '/api/v1/invitations', { email, role: 'member' });
    expect(first.statusCode).toBe(201);
    // A week and a day later (the invitation's expiry moved back rather than the clock forward).
    await ctx.pool.query(`update invitations set expires_at = now() - interval '1 day' where workspace_id = $1 and id = $2`, [owner.workspaceId, first.json().id]);
    const again = await call('POST', '/api/v1/invitations', { email, role: 'member' });
    expect(again.statusCode, again.body).toBe(201);
    // Still one pending invitation per email: a third is refused while the second holds.
    expect((await call('POST', '/api/v1/invitations', { email })).statusCode).toBe(409);
    const oldToken = new URL(first.json().acceptUrl).searchParams.get('token');
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token: oldToken, name: 'Late', password: 'late password 1' } })).statusCode).toBe(404);
  });

  it('invites a teammate who creates an account and joins as member', async () => {
    const owner = await signupActor(ctx.app);
    const call = asKey(ctx.app, owner.apiKey);
    const email = uniqueEmail('mate');
    const inv = await call('POST', '/api/v1/invitations', { email, role: 'member' });
    expect(inv.statusCode).toBe(201);
    const token = new URL(inv.json().acceptUrl).searchParams.get('token');
    expect((await call('POST', '/api/v1/invitations', { email })).statusCode).toBe(409);

    const missing = await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token } });
    expect(missing.statusCode).toBe(422);
    const accepted = await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token, name: 'Mate', password: 'mate password 1' } });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().workspaces).toEqual([expect.objectContaining({ id: owner.workspaceId, role: 'member' })]);
    const cookie = cookieHeader(accepted);
    const csrf = accepted.json().csrfToken;
    // A member reads and writes but does not administer.
    const keyAttempt = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { cookie, 'x-csrf-token': csrf }, payload: { name: 'x', scopes: ['read'] } });
    expect(keyAttempt.statusCode).toBe(403);
    const members = (await call('GET', '/api/v1/members')).json().data;
    expect(members.map((m: { role: string }) => m.role).sort()).toEqual(['member', 'owner']);
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token, name: 'Again', password: 'mate password 1' } })).statusCode).toBe(404);
  });

  it('never removes the last owner', async () => {
    const owner = await signupActor(ctx.app);
    const res = await asKey(ctx.app, owner.apiKey)('DELETE', `/api/v1/members/${owner.userId}`);
    expect(res.statusCode).toBe(409);
  });

  it('lets a user own several workspaces and switch between them', async () => {
    const owner = await signupActor(ctx.app);
    const created = await ctx.app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrf }, payload: { name: 'Second Brand' } });
    expect(created.statusCode).toBe(201);
    const me = (await ctx.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: owner.cookie } })).json();
    expect(me.workspace.id).toBe(created.json().id);
    expect(me.workspaces).toHaveLength(2);
    const other = await signupActor(ctx.app);
    const sw = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/switch-workspace', headers: { cookie: owner.cookie, 'x-csrf-token': owner.csrf }, payload: { workspaceId: other.workspaceId } });
    expect(sw.statusCode).toBe(404);
  });
});

describe('rate limiting', () => {
  it('limits login attempts per email with 429 and Retry-After', async () => {
    const limited = await createTestContext({ limits: { authPerEmailPerMinute: 3 } });
    try {
      const email = uniqueEmail();
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await limited.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'wrong password' } });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('OpenAPI', () => {
  it('documents every route with its schemas', async () => {
    const doc = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/auth/signup'].post.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['email', 'password', 'name', 'workspaceName']),
    );
    expect(doc.paths['/api/v1/api-keys/{id}'].delete.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
  });
});
