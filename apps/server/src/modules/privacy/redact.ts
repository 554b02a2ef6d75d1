import type pg from 'pg';
import { clickIdFromUuid } from '@tandem/core';

export const ERASED = '[erased]';

/**
 * Replaces every string in a JSON value that equals one of the personal values (emails compared
 * without case) by `[erased]`, keeping keys, order and everything else. Exact matches only: a
 * substring rewrite could corrupt unrelated data that happens to contain a short value.
 */
export function redactValues(value: unknown, personal: ReadonlySet<string>): unknown {
  if (typeof value === 'string') return personal.has(value) || personal.has(value.toLowerCase()) ? ERASED : value;
  if (Array.isArray(value)) return value.map((item) => redactValues(item, personal));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValues(item, personal)]));
  }
  return value;
}

export function personalSet(values: (string | null | undefined)[]): Set<string> {
  return new Set(values.filter((v): v is string => typeof v === 'string' && v.length > 0).flatMap((v) => [v, v.toLowerCase()]));
}

/**
 * Redacts the outbox events that mention the subject's internal id, and the stored bodies of their
 * webhook deliveries (kept for redelivery). The internal id is long and unique, so finding rows by
 * it is safe; inside them only exact personal values are replaced.
 */
export async function redactEventsMentioning(client: pg.PoolClient, workspaceId: string, subjectId: string, personal: ReadonlySet<string>): Promise<void> {
  const pattern = `%${subjectId}%`;
  const events = await client.query<{ id: string; data: unknown }>(
    `select id, data from outbox_events where workspace_id = $1 and data::text like $2 for update`,
    [workspaceId, pattern],
  );
  for (const event of events.rows) {
    await client.query('update outbox_events set data = $3 where workspace_id = $1 and id = $2', [workspaceId, event.id, JSON.stringify(redactValues(event.data, personal))]);
  }
  const deliveries = await client.query<{ id: string; body: string }>(
    `select id, body from webhook_deliveries where workspace_id = $1 and (body like $2 or event_id = any($3)) for update`,
    [workspaceId, pattern, events.rows.map((e) => e.id)],
  );
  for (const delivery of deliveries.rows) {
    await client.query('update webhook_deliveries set body = $3 where workspace_id = $1 and id = $2', [workspaceId, delivery.id, JSON.stringify(redactValues(JSON.parse(delivery.body), personal))]);
  }
}

/** Rewrites `json` response snapshots (kept for idempotent replies) without the personal values. */
export async function redactResponses(client: pg.PoolClient, table: 'leads' | 'sales' | 'refunds', workspaceId: string, ids: string[], personal: ReadonlySet<string>): Promise<void> {
  if (ids.length === 0) return;
  const { rows } = await client.query<{ id: string; response: unknown }>(`select id, response from ${table} where workspace_id = $1 and id = any($2)`, [workspaceId, ids]);
  for (const row of rows) {
    await client.query(`update ${table} set response = $3 where workspace_id = $1 and id = $2`, [workspaceId, row.id, JSON.stringify(redactValues(row.response, personal))]);
  }
}

/** `select to_jsonb(t)` rows: every stored column, as the export shows it. */
export async function storedRows(db: pg.Pool | pg.PoolClient, sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
  // Rows come back as pg objects (Dates, numbers) and are presented in the API's conventions.
  const { rows } = await db.query<Record<string, unknown>>(sql, params);
  return rows.map(presentRow);
}

const snakeToCamel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * A stored row in the API's conventions: camelCase keys, ISO-8601 UTC timestamps, and public
 * click ids (`clk_…`) instead of the uuids the clicks table is keyed by.
 */
export function presentRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const name = snakeToCamel(key);
    if (value instanceof Date) out[name] = value.toISOString();
    else if (typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(value)) out[name] = clickIdFromUuid(value);
    else out[name] = value;
  }
  return out;
}
