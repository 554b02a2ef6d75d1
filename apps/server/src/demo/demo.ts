import type { Services } from '../http/context.js';
import { createApiKeyRow, createWorkspace } from '../modules/accounts/accounts.js';
import { withTransaction } from '../db/tx.js';
import { hashPassword } from '../security/crypto.js';
import { newId } from '@tandem/core';

export const DEMO_EMAIL = 'demo@tandem.local';
export const DEMO_PASSWORD = 'tandem-demo-password';
export const DEMO_WORKSPACE = 'Northwind Coffee';

export interface DemoResult {
  email: string;
  password: string;
  workspaceId: string;
  apiKey: string;
  created: boolean;
}

/**
 * Idempotently creates the demo workspace and its owner. Each run issues a fresh API key (keys
 * are stored hashed, so an old one cannot be shown again) and revokes the previous demo keys.
 */
export async function seedDemo(services: Services): Promise<DemoResult> {
  return withTransaction(services.pool, async (client) => {
    await client.query('select pg_advisory_xact_lock(7212024)');
    const existing = await client.query<{ id: string }>('select id from users where email = $1', [DEMO_EMAIL]);
    let userId = existing.rows[0]?.id;
    let workspaceId: string;
    let created = false;
    if (!userId) {
      userId = newId('usr');
      await client.query('insert into users (id, email, name, password_hash) values ($1, $2, $3, $4)', [userId, DEMO_EMAIL, 'Dana Demo', await hashPassword(DEMO_PASSWORD)]);
      workspaceId = (await createWorkspace(client, DEMO_WORKSPACE, userId)).id;
      created = true;
    } else {
      const ws = await client.query<{ workspace_id: string }>(`select workspace_id from memberships where user_id = $1 and role = 'owner' order by created_at limit 1`, [userId]);
      workspaceId = ws.rows[0]?.workspace_id ?? (await createWorkspace(client, DEMO_WORKSPACE, userId)).id;
    }
    await client.query(`update api_keys set revoked_at = now() where workspace_id = $1 and name = 'Demo key' and revoked_at is null`, [workspaceId]);
    const key = await createApiKeyRow(client, workspaceId, 'Demo key', ['read', 'write', 'admin'], userId);
    return { email: DEMO_EMAIL, password: DEMO_PASSWORD, workspaceId, apiKey: key.key, created };
  });
}

/** On a first start (no workspace at all) seed the demo so there is something to explore. */
export async function seedDemoIfEmpty(services: Services, force: boolean): Promise<void> {
  if (!force) {
    const { rows } = await services.pool.query('select 1 from workspaces limit 1');
    if (rows.length > 0) return;
  }
  const demo = await seedDemo(services);
  services.log.info(`Demo workspace ready — sign in at http://localhost:${services.config.port} as ${demo.email} / ${demo.password} (API key: ${demo.apiKey})`);
}
