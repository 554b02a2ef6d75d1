import type pg from 'pg';
import { ApiError, type Role, type Scope } from '@tandem/contracts';
import { newId, slugify } from '@tandem/core';
import { hashPassword, hashToken, randomToken, verifyPassword } from '../../security/crypto.js';
import { isUniqueViolation, withTransaction } from '../../db/tx.js';
import type { Services } from '../../http/context.js';
import { API_KEYS_CHANNEL } from '../../http/api-key-cache.js';

export const SESSION_TTL_SECONDS = 30 * 24 * 3600;

export interface WorkspaceRow {
  id: string;
  name: string;
  slug: string;
  role: Role;
}

/** Finds a free slug for a workspace name: `acme`, then `acme-2`, `acme-3`… */
async function freeSlug(client: pg.PoolClient, name: string): Promise<string> {
  const base = slugify(name);
  const { rows } = await client.query<{ slug: string }>(`select slug from workspaces where slug = $1 or slug like $2`, [base, `${base}-%`]);
  const taken = new Set(rows.map((r) => r.slug));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

export async function createWorkspace(client: pg.PoolClient, name: string, ownerId: string): Promise<WorkspaceRow> {
  const id = newId('ws');
  // Two signups racing for one slug: the unique index refuses one; retry with the next free slug.
  for (let attempt = 0; ; attempt++) {
    const slug = await freeSlug(client, name);
    try {
      await client.query('savepoint ws_slug');
      await client.query('insert into workspaces (workspace_id, name, slug) values ($1, $2, $3)', [id, name, slug]);
      await client.query('release savepoint ws_slug');
      await client.query(`insert into memberships (workspace_id, user_id, role) values ($1, $2, 'owner')`, [id, ownerId]);
      return { id, name, slug, role: 'owner' };
    } catch (error) {
      await client.query('rollback to savepoint ws_slug');
      if (!isUniqueViolation(error, 'workspaces_slug_key') || attempt > 5) throw error;
    }
  }
}

/**
 * Revokes a workspace's keys (one by id, every unrevoked key with a name, or every unrevoked key)
 * and, in the same statement, announces each revoked id to every node's API key cache (see
 * ApiKeyCache): the only way keys are revoked, so a cached key never outlives its revocation.
 * Returns the ids revoked.
 */
export async function revokeApiKeys(
  db: pg.Pool | pg.PoolClient,
  workspaceId: string,
  which: { id: string } | { name: string } | { allUnrevoked: true },
): Promise<string[]> {
  const [filter, params] =
    'id' in which ? ['id = $2', [which.id]] : 'name' in which ? ['name = $2 and revoked_at is null', [which.name]] : ['revoked_at is null', []];
  const { rows } = await db.query<{ id: string }>(
    `with revoked as (
       update api_keys set revoked_at = coalesce(revoked_at, now())
        where workspace_id = $1 and ${filter} returning id
     )
     select id, pg_notify('${API_KEYS_CHANNEL}', id) from revoked`,
    [workspaceId, ...params],
  );
  return rows.map((r) => r.id);
}

export async function createApiKeyRow(
  client: pg.PoolClient | pg.Pool,
  workspaceId: string,
  name: string,
  scopes: Scope[],
  createdBy: string | null,
): Promise<{ id: string; key: string; name: string; scopes: Scope[] }> {
  const id = newId('key');
  const key = `tdm_sk_${randomToken(24)}`;
  await client.query(
    'insert into api_keys (workspace_id, id, name, prefix, key_hash, scopes, created_by) values ($1, $2, $3, $4, $5, $6, $7)',
    [workspaceId, id, name, key.slice(0, 12), hashToken(key), scopes, createdBy],
  );
  return { id, key, name, scopes };
}

export async function createSession(
  client: pg.PoolClient | pg.Pool,
  userId: string,
  workspaceId: string | null,
  now: Date,
): Promise<{ token: string; csrfToken: string }> {
  const token = randomToken(32);
  const csrfToken = randomToken(18);
  await client.query(
    'insert into sessions (id, token_hash, user_id, workspace_id, csrf_token, expires_at) values ($1, $2, $3, $4, $5, $6)',
    [newId('ses'), hashToken(token), userId, workspaceId, csrfToken, new Date(now.getTime() + SESSION_TTL_SECONDS * 1000)],
  );
  return { token, csrfToken };
}

export interface SignupInput {
  email: string;
  password: string;
  name: string;
  workspaceName: string;
}

/** User, workspace, owner membership, session and API key: all or nothing, in one transaction. */
export async function signup(services: Services, input: SignupInput) {
  const passwordHash = await hashPassword(input.password);
  try {
    return await withTransaction(services.pool, async (client) => {
      const userId = newId('usr');
      await client.query('insert into users (id, email, name, password_hash) values ($1, $2, $3, $4)', [userId, input.email, input.name, passwordHash]);
      const workspace = await createWorkspace(client, input.workspaceName, userId);
      const apiKey = await createApiKeyRow(client, workspace.id, 'Default key', ['read', 'write', 'admin'], userId);
      const session = await createSession(client, userId, workspace.id, services.now());
      return { user: { id: userId, email: input.email, name: input.name }, workspace, apiKey: apiKey.key, session };
    });
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) throw new ApiError('conflict', 'An account with this email already exists', [{ path: 'email', message: 'is already registered' }]);
    throw error;
  }
}

export async function workspacesOf(pool: pg.Pool | pg.PoolClient, userId: string): Promise<WorkspaceRow[]> {
  const { rows } = await pool.query<WorkspaceRow>(
    `select w.workspace_id as id, w.name, w.slug, m.role
       from memberships m join workspaces w on w.workspace_id = m.workspace_id
      where m.user_id = $1 order by m.created_at`,
    [userId],
  );
  return rows;
}

export async function login(services: Services, email: string, password: string) {
  const { rows } = await services.pool.query<{ id: string; email: string; name: string; password_hash: string | null }>(
    'select id, email, name, password_hash from users where email = $1',
    [email],
  );
  const user = rows[0];
  const ok = await verifyPassword(password, user?.password_hash ?? null);
  if (!user || !ok) throw new ApiError('unauthorized', 'Wrong email or password');
  const workspaces = await workspacesOf(services.pool, user.id);
  const session = await createSession(services.pool, user.id, workspaces[0]?.id ?? null, services.now());
  return { user: { id: user.id, email: user.email, name: user.name }, workspaces, session };
}
