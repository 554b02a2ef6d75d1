import type pg from 'pg';
import type { z } from 'zod';
import { ApiError, type fraudSettingsResponse } from '@tandem/contracts';
import { mergeFraudSettings, resolveFraudSettings, type FraudSettings, type FraudSettingsOverrides } from '@tandem/core';
import type { Services, WorkspaceAuth } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { actorOf, recordAudit } from '../audit/record.js';

async function storedOverrides(db: pg.Pool | pg.PoolClient, workspaceId: string, programId: string, lock = false): Promise<FraudSettingsOverrides> {
  const { rows } = await db.query<{ overrides: FraudSettingsOverrides }>(
    `select overrides from fraud_settings where workspace_id = $1 and program_id = $2${lock ? ' for update' : ''}`,
    [workspaceId, programId],
  );
  return rows[0]?.overrides ?? {};
}

/** The effective fraud settings of a program: shipped defaults with its overrides. */
export async function loadFraudSettings(db: pg.Pool | pg.PoolClient, workspaceId: string, programId: string): Promise<FraudSettings> {
  return resolveFraudSettings(await storedOverrides(db, workspaceId, programId));
}

type SettingsView = z.input<typeof fraudSettingsResponse>;

function view(programId: string, overrides: FraudSettingsOverrides): SettingsView {
  const effective = resolveFraudSettings(overrides);
  return { programId, holdThreshold: effective.holdThreshold, rules: effective.rules as SettingsView['rules'], overrides };
}

async function assertProgram(db: pg.Pool | pg.PoolClient, workspaceId: string, programId: string): Promise<void> {
  const { rowCount } = await db.query('select 1 from programs where workspace_id = $1 and id = $2', [workspaceId, programId]);
  if (!rowCount) throw new ApiError('not_found', 'Program not found');
}

export async function getFraudSettings(services: Services, workspaceId: string, programId: string): Promise<SettingsView> {
  await assertProgram(services.pool, workspaceId, programId);
  return view(programId, await storedOverrides(services.pool, workspaceId, programId));
}

/** Merges a change over the stored overrides (rule by rule, key by key) and records who changed what. */
export async function updateFraudSettings(services: Services, auth: WorkspaceAuth, programId: string, change: FraudSettingsOverrides): Promise<SettingsView> {
  return withTransaction(services.pool, async (client) => {
    await assertProgram(client, auth.workspaceId, programId);
    const before = await storedOverrides(client, auth.workspaceId, programId, true);
    const after = mergeFraudSettings(before, change);
    await client.query(
      `insert into fraud_settings (workspace_id, program_id, overrides, updated_at) values ($1, $2, $3, $4)
       on conflict (workspace_id, program_id) do update set overrides = excluded.overrides, updated_at = excluded.updated_at`,
      [auth.workspaceId, programId, JSON.stringify(after), services.now()],
    );
    await recordAudit(client, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'fraud_settings.changed', target: { type: 'program', id: programId }, before, after });
    return view(programId, after);
  });
}
