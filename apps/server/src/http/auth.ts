import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type Role } from '@tandem/contracts';
import { hashToken, constantTimeEqual } from '../security/crypto.js';
import { scopesForRole, type Auth, type Services } from './context.js';

export const SESSION_COOKIE = 'tandem_session';
export const CSRF_COOKIE = 'tandem_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const WORKSPACE_HEADER = 'tandem-workspace';

const lastUsedWrites = new Map<string, number>();

/**
 * Whether a caller authenticated earlier still may act: its API key is not revoked, or its session
 * has not ended (logout, expiry) and, in a workspace, its membership stands. For long-lived
 * requests (the event stream), which were authorised once when they opened.
 */
export async function authStillValid(services: Services, auth: Auth): Promise<boolean> {
  if (auth.kind === 'api_key') {
    const { rowCount } = await services.pool.query('select 1 from api_keys where workspace_id = $1 and id = $2 and revoked_at is null', [auth.workspaceId, auth.keyId]);
    return rowCount === 1;
  }
  const { rowCount } = await services.pool.query(
    `select 1 from sessions s
      where s.id = $1 and s.expires_at > $3
        and ($2::text is null or exists (select 1 from memberships m where m.workspace_id = $2 and m.user_id = s.user_id))`,
    [auth.sessionId, auth.workspaceId, services.now()],
  );
  return rowCount === 1;
}

/**
 * Who is calling: an API key in `Authorization: Bearer`, or the web session cookie. Returns null
 * for anonymous calls; throws 401 for credentials that are present but not valid (a revoked key
 * must fail loudly, not fall back to anonymous).
 */
export async function resolveAuth(req: FastifyRequest, services: Services): Promise<Auth | null> {
  const header = req.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError('unauthorized', 'Authorization header must be `Bearer <api key>`');
    return resolveApiKey(match[1]!, services);
  }
  const token = req.cookies?.[SESSION_COOKIE];
  if (!token) return null;
  return resolveSession(req, token, services);
}

async function resolveApiKey(key: string, services: Services): Promise<Auth> {
  if (!key.startsWith('tdm_sk_')) throw new ApiError('unauthorized', 'Invalid API key');
  const row = await services.apiKeys.lookUp(hashToken(key));
  if (!row) throw new ApiError('unauthorized', 'Invalid API key');
  if (row.revoked_at) throw new ApiError('unauthorized', 'This API key has been revoked');
  const limit = services.limits.apiPerKey.take(row.id, services.now().getTime());
  if (!limit.allowed) throw new ApiError('rate_limited', `Too many requests for this API key; retry in ${limit.retryAfterSeconds}s`);
  // Record last use at most once a minute per key, off the request path.
  const now = services.now().getTime();
  if ((lastUsedWrites.get(row.id) ?? 0) < now - 60_000) {
    lastUsedWrites.set(row.id, now);
    services.pool
      .query('update api_keys set last_used_at = now() where workspace_id = $1 and id = $2', [row.workspace_id, row.id])
      .catch(() => undefined);
  }
  return { kind: 'api_key', keyId: row.id, workspaceId: row.workspace_id, scopes: row.scopes, userId: null };
}

async function resolveSession(req: FastifyRequest, token: string, services: Services): Promise<Auth | null> {
  const { rows } = await services.pool.query<{
    id: string;
    user_id: string;
    workspace_id: string | null;
    csrf_token: string;
    expires_at: Date;
    role: Role | null;
  }>(
    `select s.id, s.user_id, s.workspace_id, s.csrf_token, s.expires_at, m.role
       from sessions s
       left join memberships m on m.workspace_id = s.workspace_id and m.user_id = s.user_id
      where s.token_hash = $1`,
    [hashToken(token)],
  );
  const row = rows[0];
  if (!row || row.expires_at.getTime() <= services.now().getTime()) return null;
  let workspaceId = row.role ? row.workspace_id : null;
  let role = row.role;
  // A UI that manages several workspaces may name one per request.
  const requested = req.headers[WORKSPACE_HEADER];
  if (typeof requested === 'string' && requested !== workspaceId) {
    const m = await services.pool.query<{ role: Role }>('select role from memberships where workspace_id = $1 and user_id = $2', [requested, row.user_id]);
    if (!m.rows[0]) throw new ApiError('not_found', 'Workspace not found');
    workspaceId = requested;
    role = m.rows[0].role;
  }
  return {
    kind: 'session',
    sessionId: row.id,
    userId: row.user_id,
    workspaceId,
    role,
    scopes: role ? scopesForRole(role) : [],
    csrfToken: row.csrf_token,
  };
}

/** Cookie-authenticated writes must echo the CSRF token (double submit); API keys are exempt. */
export function checkCsrf(req: FastifyRequest, auth: Auth | null): void {
  if (!auth || auth.kind !== 'session') return;
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !constantTimeEqual(sent, auth.csrfToken)) {
    throw new ApiError('forbidden', `Missing or wrong ${CSRF_HEADER} header for a cookie-authenticated request`);
  }
}

export function isSecureRequest(req: FastifyRequest, services: Services): boolean {
  return req.protocol === 'https' || (services.config.publicUrl?.startsWith('https://') ?? false);
}

export function setSessionCookies(reply: FastifyReply, req: FastifyRequest, services: Services, token: string, csrf: string, maxAgeSeconds: number): void {
  const secure = isSecureRequest(req, services);
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: maxAgeSeconds });
  // Readable by the web app's script, which echoes it in the CSRF header.
  reply.setCookie(CSRF_COOKIE, csrf, { httpOnly: false, sameSite: 'lax', secure, path: '/', maxAge: maxAgeSeconds });
}

export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
  reply.clearCookie(CSRF_COOKIE, { path: '/' });
}
