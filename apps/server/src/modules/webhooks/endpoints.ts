import type pg from 'pg';
import { ApiError, type createWebhookBody, type updateWebhookBody, type webhookDelivery, type webhookEndpoint } from '@tandem/contracts';
import { newId } from '@tandem/core';
import type { z } from 'zod';
import type { Services } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { encryptValue } from '../../security/encryption.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { urlRefusal } from './address-guard.js';
import { newWebhookSecret } from './signature.js';

export type WebhookEndpointView = z.output<typeof webhookEndpoint>;
export type WebhookDeliveryView = z.output<typeof webhookDelivery>;

export interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_at: Date | null;
  disabled_reason: string | null;
  created_at: Date;
}

export const ENDPOINT_COLUMNS = 'id, url, events, description, enabled, disabled_at, disabled_reason, created_at';

export function endpointView(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabledAt: row.disabled_at?.toISOString() ?? null,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at.toISOString(),
  };
}

function assertAcceptableUrl(url: string, allowPrivate: boolean): void {
  const refusal = urlRefusal(url, allowPrivate);
  if (refusal) throw new ApiError('unprocessable', `The webhook URL ${refusal}`, [{ path: 'url', message: refusal }]);
}

/** A set of subscribed types: `*` alone stands for all, and duplicates go. */
function normalizeEvents(events: string[]): string[] {
  return events.includes('*') ? ['*'] : [...new Set(events)].sort();
}

export async function createWebhookEndpoint(
  services: Services,
  workspaceId: string,
  actor: AuditActor,
  input: z.output<typeof createWebhookBody>,
): Promise<WebhookEndpointView & { secret: string }> {
  assertAcceptableUrl(input.url, services.config.webhooksAllowPrivate);
  const secret = newWebhookSecret();
  const id = newId('whk');
  const events = normalizeEvents(input.events);
  const row = await withTransaction(services.pool, async (client) => {
    const { rows } = await client.query<EndpointRow>(
      `insert into webhook_endpoints (workspace_id, id, url, events, description, secret_encrypted, created_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning ${ENDPOINT_COLUMNS}`,
      [workspaceId, id, input.url, events, input.description ?? null, encryptValue(services.secret, 'webhook-secret', secret), services.now()],
    );
    await recordAudit(client, { workspaceId, actor, action: 'webhook.created', target: { type: 'webhook', id }, after: { url: input.url, events } });
    return rows[0]!;
  });
  return { ...endpointView(row), secret };
}

export async function getEndpointRow(db: pg.Pool | pg.PoolClient, workspaceId: string, id: string, lock = false): Promise<EndpointRow> {
  const { rows } = await db.query<EndpointRow>(
    `select ${ENDPOINT_COLUMNS} from webhook_endpoints where workspace_id = $1 and id = $2${lock ? ' for update' : ''}`,
    [workspaceId, id],
  );
  if (!rows[0]) throw new ApiError('not_found', 'Webhook endpoint not found');
  return rows[0];
}

export async function updateWebhookEndpoint(
  services: Services,
  workspaceId: string,
  actor: AuditActor,
  id: string,
  input: z.output<typeof updateWebhookBody>,
): Promise<WebhookEndpointView> {
  if (input.url !== undefined) assertAcceptableUrl(input.url, services.config.webhooksAllowPrivate);
  return withTransaction(services.pool, async (client) => {
    const before = await getEndpointRow(client, workspaceId, id, true);
    const enabled = input.enabled ?? before.enabled;
    // Re-enabling clears the reason; disabling by hand records who did it.
    const disabledAt = enabled ? null : before.enabled ? services.now() : before.disabled_at;
    const disabledReason = enabled ? null : before.enabled ? 'disabled by a workspace admin' : before.disabled_reason;
    const { rows } = await client.query<EndpointRow>(
      `update webhook_endpoints set url = $3, events = $4, description = $5, enabled = $6, disabled_at = $7, disabled_reason = $8
        where workspace_id = $1 and id = $2 returning ${ENDPOINT_COLUMNS}`,
      [
        workspaceId,
        id,
        input.url ?? before.url,
        input.events ? normalizeEvents(input.events) : before.events,
        input.description === undefined ? before.description : input.description,
        enabled,
        disabledAt,
        disabledReason,
      ],
    );
    const after = rows[0]!;
    if (enabled && !before.enabled) {
      // Deliveries that were waiting while the endpoint was off go out now, with a fresh schedule.
      // As with a redelivery, a new generation releases any claim and makes the outcome of an
      // attempt still in flight from before the endpoint was disabled only a line in the log.
      await client.query(
        `update webhook_deliveries set next_attempt_at = $3, failed_attempts = 0, locked_until = null, generation = generation + 1
          where workspace_id = $1 and endpoint_id = $2 and status = 'pending'`,
        [workspaceId, id, services.now()],
      );
    }
    await recordAudit(client, {
      workspaceId,
      actor,
      action: 'webhook.updated',
      target: { type: 'webhook', id },
      before: { url: before.url, events: before.events, enabled: before.enabled },
      after: { url: after.url, events: after.events, enabled: after.enabled },
    });
    return endpointView(after);
  });
}

export async function deleteWebhookEndpoint(services: Services, workspaceId: string, actor: AuditActor, id: string): Promise<void> {
  await withTransaction(services.pool, async (client) => {
    const before = await getEndpointRow(client, workspaceId, id, true);
    await client.query('delete from webhook_attempts where workspace_id = $1 and endpoint_id = $2', [workspaceId, id]);
    await client.query('delete from webhook_deliveries where workspace_id = $1 and endpoint_id = $2', [workspaceId, id]);
    await client.query('delete from webhook_endpoints where workspace_id = $1 and id = $2', [workspaceId, id]);
    await recordAudit(client, { workspaceId, actor, action: 'webhook.deleted', target: { type: 'webhook', id }, before: { url: before.url, events: before.events } });
  });
}

interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  next_attempt_at: Date | null;
  created_at: Date;
}

/** Deliveries with their attempts, newest first. */
export async function listDeliveries(
  db: pg.Pool | pg.PoolClient,
  workspaceId: string,
  endpointId: string,
  options: { before?: string; limit: number; status?: string; deliveryId?: string },
): Promise<WebhookDeliveryView[]> {
  const { rows } = await db.query<DeliveryRow>(
    `select id, event_id, event_type, status, next_attempt_at, created_at from webhook_deliveries
      where workspace_id = $1 and endpoint_id = $2 and ($3::text is null or id < $3) and ($4::text is null or status = $4)
        and ($5::text is null or id = $5)
      order by id desc limit $6`,
    [workspaceId, endpointId, options.before ?? null, options.status ?? null, options.deliveryId ?? null, options.limit],
  );
  if (rows.length === 0) return [];
  const attempts = await db.query<{ delivery_id: string; attempt: number; status_code: number | null; error: string | null; duration_ms: number; attempted_at: Date }>(
    `select delivery_id, attempt, status_code, error, duration_ms, attempted_at from webhook_attempts
      where workspace_id = $1 and delivery_id = any($2) order by attempt`,
    [workspaceId, rows.map((r) => r.id)],
  );
  return rows.map((d) => ({
    id: d.id,
    eventId: d.event_id,
    eventType: d.event_type,
    status: d.status,
    nextAttemptAt: d.status === 'pending' ? (d.next_attempt_at?.toISOString() ?? null) : null,
    createdAt: d.created_at.toISOString(),
    attempts: attempts.rows
      .filter((a) => a.delivery_id === d.id)
      .map((a) => ({ attempt: a.attempt, statusCode: a.status_code, error: a.error, durationMs: a.duration_ms, attemptedAt: a.attempted_at.toISOString() })),
  }));
}

export async function getDelivery(db: pg.Pool | pg.PoolClient, workspaceId: string, endpointId: string, deliveryId: string): Promise<WebhookDeliveryView> {
  const [delivery] = await listDeliveries(db, workspaceId, endpointId, { limit: 1, deliveryId });
  if (!delivery) throw new ApiError('not_found', 'Delivery not found');
  return delivery;
}

/**
 * Manual redelivery: the same `webhook-id` and body, a fresh retry schedule starting now. A new
 * generation releases any claim at once: an attempt still in flight keeps its place in the log, but
 * its outcome no longer applies, and the redelivery is sent without waiting for it.
 */
export async function redeliver(services: Services, workspaceId: string, actor: AuditActor, endpointId: string, deliveryId: string): Promise<WebhookDeliveryView> {
  await withTransaction(services.pool, async (client) => {
    await getEndpointRow(client, workspaceId, endpointId);
    const { rowCount } = await client.query(
      `update webhook_deliveries set status = 'pending', failed_attempts = 0, next_attempt_at = $4, delivered_at = null,
              locked_until = null, generation = generation + 1
        where workspace_id = $1 and endpoint_id = $2 and id = $3`,
      [workspaceId, endpointId, deliveryId, services.now()],
    );
    if (!rowCount) throw new ApiError('not_found', 'Delivery not found');
    await recordAudit(client, { workspaceId, actor, action: 'webhook.redelivered', target: { type: 'webhook_delivery', id: deliveryId } });
  });
  await services.queue.enqueue(DELIVER_QUEUE);
  return getDelivery(services.pool, workspaceId, endpointId, deliveryId);
}

export const DISPATCH_QUEUE = 'webhooks.dispatch';
export const DELIVER_QUEUE = 'webhooks.deliver';
