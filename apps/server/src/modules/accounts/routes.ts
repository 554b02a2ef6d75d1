import { ApiError, endpoints } from '@tandem/contracts';
import { newId } from '@tandem/core';
import type { FastifyRequest } from 'fastify';
import { clearSessionCookies, SESSION_COOKIE, setSessionCookies } from '../../http/auth.js';
import type { Services } from '../../http/context.js';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { hashPassword, hashToken, randomToken } from '../../security/crypto.js';
import { isUniqueViolation, withTransaction } from '../../db/tx.js';
import { actorOf, recordAudit } from '../audit/record.js';
import { assertCouncilsKeepAReviewer, retallyCouncilsOf } from '../partners/applications.js';
import { createApiKeyRow, createSession, revokeApiKeys, createWorkspace, login, SESSION_TTL_SECONDS, signup, workspacesOf } from './accounts.js';
import { linkPartnerRows } from '../portal/portal.js';
import { confirmPasswordReset, requestPasswordReset } from './password-reset.js';

const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

function limitAuth(services: Services, req: FastifyRequest, email?: string): void {
  const now = services.now().getTime();
  const byIp = services.limits.authPerIp.take(req.ip, now);
  if (!byIp.allowed) throw new ApiError('rate_limited', `Too many attempts from this address; retry in ${byIp.retryAfterSeconds}s`);
  if (email) {
    const byEmail = services.limits.authPerEmail.take(email, now);
    if (!byEmail.allowed) throw new ApiError('rate_limited', `Too many attempts for this account; retry in ${byEmail.retryAfterSeconds}s`);
  }
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function accountRoutes(r: Router): void {
  r.handle(endpoints.signup, async ({ body, req, reply, services }) => {
    limitAuth(services, req, body.email);
    const result = await signup(services, body);
    setSessionCookies(reply, req, services, result.session.token, result.session.csrfToken, SESSION_TTL_SECONDS);
    req.log.info({ userId: result.user.id, workspaceId: result.workspace.id }, 'signup');
    await recordAudit(services.pool, { workspaceId: result.workspace.id, actor: { kind: 'user', id: result.user.id }, action: 'workspace.created', target: { type: 'workspace', id: result.workspace.id }, after: { name: result.workspace.name, slug: result.workspace.slug, owner: result.user.id } });
    return {
      user: result.user,
      workspace: { id: result.workspace.id, name: result.workspace.name, slug: result.workspace.slug },
      apiKey: result.apiKey,
      csrfToken: result.session.csrfToken,
    };
  });

  r.handle(endpoints.login, async ({ body, req, reply, services }) => {
    limitAuth(services, req, body.email);
    const result = await login(services, body.email, body.password);
    for (const workspace of result.workspaces) {
      await recordAudit(services.pool, { workspaceId: workspace.id, actor: { kind: 'user', id: result.user.id }, action: 'auth.login', target: { type: 'user', id: result.user.id } });
    }
    setSessionCookies(reply, req, services, result.session.token, result.session.csrfToken, SESSION_TTL_SECONDS);
    return { user: result.user, workspaces: result.workspaces, csrfToken: result.session.csrfToken };
  });

  r.handle(endpoints.requestPasswordReset, async ({ body, req, services }) => {
    // Limited per address whether or not an account uses it, so a refusal tells nothing either.
    limitAuth(services, req, body.email);
    await requestPasswordReset(services, body.email);
    return { email: body.email };
  });

  r.handle(endpoints.confirmPasswordReset, async ({ body, req, services }) => {
    limitAuth(services, req);
    // Sign-in lets any verified user see its partner rows (the portal links them on its first
    // call), so a reset, which verifies the address, links them at once.
    const result = await confirmPasswordReset(services, body, (client, userId) => linkPartnerRows(client, userId));
    // Every node forgets the revoked keys on commit (see ApiKeyCache); this one at once.
    for (const keyId of result.revokedApiKeyIds) services.apiKeys.forget(keyId);
    req.log.info({ email: result.email, revokedApiKeys: result.revokedApiKeyIds.length, apiKeysToReview: result.apiKeysToReview }, 'password reset');
    return { email: result.email, revokedApiKeys: result.revokedApiKeyIds.length, apiKeysToReview: result.apiKeysToReview };
  });

  r.handle(endpoints.logout, async ({ req, reply, services }) => {
    const token = req.cookies?.[SESSION_COOKIE];
    if (token) await services.pool.query('delete from sessions where token_hash = $1', [hashToken(token)]);
    clearSessionCookies(reply);
  });

  r.handle(endpoints.me, async ({ auth, services }) => {
    const workspaces = auth.userId ? await workspacesOf(services.pool, auth.userId) : [];
    let user = null;
    if (auth.userId) {
      const { rows } = await services.pool.query<{ id: string; email: string; name: string }>('select id, email, name from users where id = $1', [auth.userId]);
      user = rows[0] ?? null;
    }
    let current = workspaces.find((w) => w.id === auth.workspaceId) ?? null;
    if (!current) {
      const { rows } = await services.pool.query<{ id: string; name: string; slug: string }>(
        'select workspace_id as id, name, slug from workspaces where workspace_id = $1',
        [auth.workspaceId],
      );
      // An API key acts with the rights of its scopes, reported as the matching role.
      current = rows[0] ? { ...rows[0], role: auth.scopes.includes('admin') ? 'admin' : 'member' } : null;
    }
    return { user, workspace: current, workspaces, auth: { kind: auth.kind, scopes: auth.scopes } };
  });

  r.handle(endpoints.createWorkspace, async ({ body, auth, services }) => {
    const ws = await withTransaction(services.pool, async (client) => {
      const created = await createWorkspace(client, body.name, auth.userId);
      await recordAudit(client, { workspaceId: created.id, actor: actorOf(auth), action: 'workspace.created', target: { type: 'workspace', id: created.id }, after: { name: created.name, slug: created.slug, owner: auth.userId } });
      await client.query('update sessions set workspace_id = $1 where id = $2', [created.id, auth.sessionId]);
      return created;
    });
    return ws;
  });

  r.handle(endpoints.switchWorkspace, async ({ body, auth, services }) => {
    const ws = (await workspacesOf(services.pool, auth.userId)).find((w) => w.id === body.workspaceId);
    if (!ws) throw new ApiError('not_found', 'Workspace not found');
    await services.pool.query('update sessions set workspace_id = $1 where id = $2', [ws.id, auth.sessionId]);
    return ws;
  });

  r.handle(endpoints.createApiKey, async ({ body, auth, services, req }) => {
    const created = await createApiKeyRow(services.pool, auth.workspaceId, body.name, [...new Set(body.scopes)], auth.userId);
    req.log.info({ workspaceId: auth.workspaceId, keyId: created.id }, 'api key created');
    await recordAudit(services.pool, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'api_key.created', target: { type: 'api_key', id: created.id }, after: { name: created.name, scopes: created.scopes } });
    return created;
  });

  r.handle(endpoints.listApiKeys, async ({ query, auth, services }) => {
    const after = decodeCursor(query.cursor);
    const { rows } = await services.pool.query<{
      id: string; name: string; scopes: ('read' | 'write' | 'admin')[]; prefix: string; created_at: Date; last_used_at: Date | null; revoked_at: Date | null;
    }>(
      `select id, name, scopes, prefix, created_at, last_used_at, revoked_at from api_keys
        where workspace_id = $1 and ($2::text is null or id < $2) order by id desc limit $3`,
      [auth.workspaceId, after ?? null, query.limit + 1],
    );
    return pageOf(
      rows.map((k) => ({ id: k.id, name: k.name, scopes: k.scopes, prefix: k.prefix, createdAt: k.created_at.toISOString(), lastUsedAt: iso(k.last_used_at), revokedAt: iso(k.revoked_at) })),
      query.limit,
      (k) => k.id,
    );
  });

  r.handle(endpoints.revokeApiKey, async ({ params, auth, services, req }) => {
    // Every node forgets the key when this commits (see ApiKeyCache); this one at once.
    const revoked = await revokeApiKeys(services.pool, auth.workspaceId, { id: params.id });
    if (revoked.length === 0) throw new ApiError('not_found', 'API key not found');
    services.apiKeys.forget(params.id);
    req.log.info({ workspaceId: auth.workspaceId, keyId: params.id }, 'api key revoked');
    await recordAudit(services.pool, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'api_key.revoked', target: { type: 'api_key', id: params.id }, before: { revoked: false }, after: { revoked: true } });
  });

  r.handle(endpoints.listMembers, async ({ query, auth, services }) => {
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const { rows } = await services.pool.query<{ user_id: string; email: string; name: string; role: 'owner' | 'admin' | 'member'; created_at: Date }>(
      `select m.user_id, u.email, u.name, m.role, m.created_at from memberships m join users u on u.id = m.user_id
        where m.workspace_id = $1 and ($2::text is null or m.user_id > $2) order by m.user_id limit $3`,
      [auth.workspaceId, after, query.limit + 1],
    );
    return pageOf(
      rows.map((m) => ({ userId: m.user_id, email: m.email, name: m.name, role: m.role, joinedAt: m.created_at.toISOString() })),
      query.limit,
      (m) => m.userId,
    );
  });

  r.handle(endpoints.removeMember, async ({ params, auth, services, req }) => {
    await withTransaction(services.pool, async (client) => {
      const { rows } = await client.query<{ user_id: string; role: string }>(
        'select user_id, role from memberships where workspace_id = $1 order by user_id for update',
        [auth.workspaceId],
      );
      const target = rows.find((m) => m.user_id === params.id);
      if (!target) throw new ApiError('not_found', 'Member not found');
      if (target.role === 'owner' && rows.filter((m) => m.role === 'owner').length === 1) {
        throw new ApiError('conflict', 'A workspace keeps at least one owner');
      }
      if (target.role === 'owner' && auth.kind === 'session' && auth.role !== 'owner') throw new ApiError('forbidden', 'Only an owner can remove an owner');
      await assertCouncilsKeepAReviewer(client, auth.workspaceId, params.id);
      await client.query('delete from memberships where workspace_id = $1 and user_id = $2', [auth.workspaceId, params.id]);
      await retallyCouncilsOf(client, auth.workspaceId, params.id, services.now(), req.log);
      await recordAudit(client, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'member.removed', target: { type: 'user', id: params.id }, before: { role: target.role } });
      await client.query('update sessions set workspace_id = null where user_id = $1 and workspace_id = $2', [params.id, auth.workspaceId]);
    });
  });

  r.handle(endpoints.createInvitation, async ({ body, auth, services, req }) => {
    const member = await services.pool.query(
      'select 1 from memberships m join users u on u.id = m.user_id where m.workspace_id = $1 and u.email = $2',
      [auth.workspaceId, body.email],
    );
    if (member.rowCount) throw new ApiError('conflict', 'This person is already a member', [{ path: 'email', message: 'is already a member' }]);
    const token = randomToken(24);
    const id = newId('inv');
    const expiresAt = new Date(services.now().getTime() + INVITATION_TTL_MS);
    try {
      // An expired invitation no longer holds the email's one pending place: it is revoked in the
      // transaction that makes the new one (a concurrent invite still meets the unique index).
      await withTransaction(services.pool, async (client) => {
        await client.query(
          'update invitations set revoked_at = $3 where workspace_id = $1 and email = $2 and accepted_at is null and revoked_at is null and expires_at <= $3',
          [auth.workspaceId, body.email, services.now()],
        );
        await client.query(
          'insert into invitations (workspace_id, id, email, role, token_hash, invited_by, expires_at) values ($1, $2, $3, $4, $5, $6, $7)',
          [auth.workspaceId, id, body.email, body.role, hashToken(token), auth.userId, expiresAt],
        );
      });
    } catch (error) {
      if (isUniqueViolation(error, 'invitations_pending_email_key')) throw new ApiError('conflict', 'This email already has a pending invitation', [{ path: 'email', message: 'already invited' }]);
      throw error;
    }
    await recordAudit(services.pool, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'invitation.created', target: { type: 'invitation', id }, after: { email: body.email, role: body.role } });
    const base = services.config.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    const acceptUrl = `${base}/invite?token=${token}`;
    // Until email delivery exists the link goes to the log, where an operator can pass it on.
    req.log.info({ workspaceId: auth.workspaceId, email: body.email, acceptUrl }, 'invitation created');
    return { id, email: body.email, role: body.role, status: 'pending' as const, expiresAt: expiresAt.toISOString(), createdAt: services.now().toISOString(), acceptUrl };
  });

  r.handle(endpoints.listInvitations, async ({ query, auth, services }) => {
    const after = decodeCursor(query.cursor);
    const { rows } = await services.pool.query<{ id: string; email: string; role: 'owner' | 'admin' | 'member'; created_at: Date; expires_at: Date; accepted_at: Date | null; revoked_at: Date | null }>(
      `select id, email, role, created_at, expires_at, accepted_at, revoked_at from invitations
        where workspace_id = $1 and ($2::text is null or id < $2) order by id desc limit $3`,
      [auth.workspaceId, after ?? null, query.limit + 1],
    );
    const now = services.now().getTime();
    return pageOf(
      rows.map((i) => ({
        id: i.id,
        email: i.email,
        role: i.role,
        status: i.accepted_at ? ('accepted' as const) : i.revoked_at ? ('revoked' as const) : i.expires_at.getTime() <= now ? ('expired' as const) : ('pending' as const),
        expiresAt: i.expires_at.toISOString(),
        createdAt: i.created_at.toISOString(),
      })),
      query.limit,
      (i) => i.id,
    );
  });

  r.handle(endpoints.revokeInvitation, async ({ params, auth, services }) => {
    const { rowCount } = await services.pool.query(
      'update invitations set revoked_at = now() where workspace_id = $1 and id = $2 and accepted_at is null and revoked_at is null',
      [auth.workspaceId, params.id],
    );
    if (!rowCount) throw new ApiError('not_found', 'Pending invitation not found');
    await recordAudit(services.pool, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'invitation.revoked', target: { type: 'invitation', id: params.id } });
  });

  r.handle(endpoints.acceptInvitation, async ({ body, auth, req, reply, services }) => {
    limitAuth(services, req);
    const result = await withTransaction(services.pool, async (client) => {
      const { rows } = await client.query<{ workspace_id: string; id: string; email: string; role: 'admin' | 'member'; expires_at: Date; accepted_at: Date | null; revoked_at: Date | null }>(
        'select workspace_id, id, email, role, expires_at, accepted_at, revoked_at from invitations where token_hash = $1 for update',
        [hashToken(body.token)],
      );
      const inv = rows[0];
      if (!inv || inv.revoked_at || inv.accepted_at) throw new ApiError('not_found', 'Invitation not found or already used');
      if (inv.expires_at.getTime() <= services.now().getTime()) throw new ApiError('unprocessable', 'This invitation has expired', [{ path: 'token', message: 'has expired' }]);
      const existing = await client.query<{ id: string; email: string; name: string }>('select id, email, name from users where email = $1', [inv.email]);
      let user = existing.rows[0];
      if (user) {
        // The invitee has an account: it must be the one signed in.
        if (!auth || auth.userId !== user.id) throw new ApiError('unauthorized', 'Sign in as the invited account to accept');
      } else {
        if (!body.password || !body.name) {
          throw new ApiError('unprocessable', 'New accounts need a name and a password', [
            ...(!body.name ? [{ path: 'name', message: 'is required for a new account' }] : []),
            ...(!body.password ? [{ path: 'password', message: 'is required for a new account' }] : []),
          ]);
        }
        user = { id: newId('usr'), email: inv.email, name: body.name };
        await client.query('insert into users (id, email, name, password_hash) values ($1, $2, $3, $4)', [user.id, user.email, user.name, await hashPassword(body.password)]);
      }
      await client.query(
        'insert into memberships (workspace_id, user_id, role) values ($1, $2, $3) on conflict (workspace_id, user_id) do nothing',
        [inv.workspace_id, user.id, inv.role],
      );
      await client.query('update invitations set accepted_at = now() where workspace_id = $1 and id = $2', [inv.workspace_id, inv.id]);
      await recordAudit(client, { workspaceId: inv.workspace_id, actor: { kind: 'user', id: user.id }, action: 'invitation.accepted', target: { type: 'invitation', id: inv.id }, after: { userId: user.id, role: inv.role } });
      const session = await createSession(client, user.id, inv.workspace_id, services.now());
      return { user, session, workspaces: await workspacesOf(client, user.id) };
    });
    setSessionCookies(reply, req, services, result.session.token, result.session.csrfToken, SESSION_TTL_SECONDS);
    return { user: result.user, workspaces: result.workspaces, csrfToken: result.session.csrfToken };
  });
}
