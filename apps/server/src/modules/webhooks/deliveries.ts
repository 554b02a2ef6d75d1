import type pg from 'pg';
import { TEST_EVENT_TYPE } from '@tandem/contracts';
import { newId } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { decryptValue } from '../../security/encryption.js';
import { recordAudit } from '../audit/record.js';
import { DELIVER_QUEUE, getDelivery, getEndpointRow, type WebhookDeliveryView } from './endpoints.js';
import { MAX_DELIVERY_ATTEMPTS, nextAttemptAt } from './retry-schedule.js';
import { sendWebhookRequest, type SendOutcome } from './send-request.js';
import { webhookHeaders } from './signature.js';

/** Events turned into deliveries per transaction; the dispatcher loops until the outbox is drained. */
const DISPATCH_BATCH = 200;
/** Deliveries sent in parallel per round. */
const DELIVERY_BATCH = 20;
/** A claimed delivery belongs to its worker this long; longer than a request can take. */
const CLAIM_MS = 60_000;
const MAX_ROUNDS = 50;

export function webhookBodyJson(type: string, occurredAt: Date, data: unknown): string {
  return JSON.stringify({ type, timestamp: occurredAt.toISOString(), data });
}

const subscribes = (events: string[], type: string) => events.includes('*') || events.includes(type);

/**
 * Turns outbox events that no dispatcher has seen yet into one delivery per enabled endpoint that
 * subscribes to the type. Several dispatchers may run at once: `skip locked` gives each its own
 * events, and the unique (endpoint, event) key makes a repeat harmless. Returns deliveries created.
 */
export async function dispatchOutboxEvents(services: Services): Promise<number> {
  let created = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = await withTransaction(services.pool, async (client) => {
      const { rows: events } = await client.query<{ workspace_id: string; id: string; type: string; data: unknown; occurred_at: Date }>(
        `select workspace_id, id, type, data, occurred_at from outbox_events
          where webhooks_dispatched_at is null order by id limit $1 for update skip locked`,
        [DISPATCH_BATCH],
      );
      if (events.length === 0) return { events: 0, deliveries: 0 };
      const workspaceIds = [...new Set(events.map((e) => e.workspace_id))];
      const { rows: endpoints } = await client.query<{ workspace_id: string; id: string; events: string[] }>(
        'select workspace_id, id, events from webhook_endpoints where workspace_id = any($1) and enabled',
        [workspaceIds],
      );
      const now = services.now();
      const deliveries = events.flatMap((event) =>
        endpoints
          .filter((endpoint) => endpoint.workspace_id === event.workspace_id && subscribes(endpoint.events, event.type))
          .map((endpoint) => ({
            workspaceId: event.workspace_id,
            id: newId('dlv'),
            endpointId: endpoint.id,
            eventId: event.id,
            eventType: event.type,
            body: webhookBodyJson(event.type, event.occurred_at, event.data),
          })),
      );
      if (deliveries.length > 0) {
        const inserted = await client.query(
          `insert into webhook_deliveries (workspace_id, id, endpoint_id, event_id, event_type, body, status, next_attempt_at, created_at)
           select w, i, e, ev, t, b, 'pending', $7, $7
             from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) as d(w, i, e, ev, t, b)
           on conflict (workspace_id, endpoint_id, event_id) do nothing`,
          [
            deliveries.map((d) => d.workspaceId),
            deliveries.map((d) => d.id),
            deliveries.map((d) => d.endpointId),
            deliveries.map((d) => d.eventId),
            deliveries.map((d) => d.eventType),
            deliveries.map((d) => d.body),
            now,
          ],
        );
        created += inserted.rowCount ?? 0;
      }
      await client.query(
        `update outbox_events o set webhooks_dispatched_at = now()
           from unnest($1::text[], $2::text[]) as e(w, i) where o.workspace_id = e.w and o.id = e.i`,
        [events.map((e) => e.workspace_id), events.map((e) => e.id)],
      );
      return { events: events.length, deliveries: deliveries.length };
    });
    if (result.events < DISPATCH_BATCH) break;
  }
  return created;
}

interface ClaimedDelivery {
  workspace_id: string;
  id: string;
  endpoint_id: string;
  body: string;
  failed_attempts: number;
  /** The generation this claim set: the outcome is written only while the delivery still has it. */
  generation: number;
  created_at: Date;
  url: string;
  secret_encrypted: string;
}

/**
 * Sends every delivery that is due by the injected clock (`services.now()`). Retry times are
 * computed from the same clock, so tests move time with `ctx.clock` instead of sleeping; the job
 * that runs this is only a wake-up (on new deliveries, and every few seconds as a fallback), and
 * which deliveries are due is decided here, not by the job queue's database clock.
 */
export async function deliverDueWebhooks(services: Services, random: () => number = Math.random): Promise<number> {
  let sent = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const now = services.now();
    const { rows } = await services.pool.query<ClaimedDelivery>(
      `update webhook_deliveries d set locked_until = $2, generation = d.generation + 1
         from webhook_endpoints e
        where e.workspace_id = d.workspace_id and e.id = d.endpoint_id
          and (d.workspace_id, d.id) in (
            select d2.workspace_id, d2.id from webhook_deliveries d2
              join webhook_endpoints e2 on e2.workspace_id = d2.workspace_id and e2.id = d2.endpoint_id
             where d2.status = 'pending' and d2.next_attempt_at <= $1
               and (d2.locked_until is null or d2.locked_until < $1) and e2.enabled
             order by d2.next_attempt_at limit $3
             for update of d2 skip locked)
        returning d.workspace_id, d.id, d.endpoint_id, d.body, d.failed_attempts, d.generation, d.created_at, e.url, e.secret_encrypted`,
      [now, new Date(now.getTime() + CLAIM_MS), DELIVERY_BATCH],
    );
    if (rows.length === 0) break;
    await Promise.all(rows.map((delivery) => attemptDelivery(services, delivery, random)));
    sent += rows.length;
  }
  return sent;
}

async function attemptDelivery(services: Services, delivery: ClaimedDelivery, random: () => number): Promise<void> {
  const attemptedAt = services.now();
  const secret = decryptValue(services.secret, 'webhook-secret', delivery.secret_encrypted);
  const outcome = await sendWebhookRequest({
    url: delivery.url,
    body: delivery.body,
    headers: webhookHeaders(secret, delivery.id, Math.floor(attemptedAt.getTime() / 1000), delivery.body),
    allowPrivate: services.config.webhooksAllowPrivate,
  });
  await recordOutcome(services, delivery, attemptedAt, outcome, random);
}

const isSuccess = (outcome: SendOutcome) => outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;

async function recordOutcome(services: Services, delivery: ClaimedDelivery, attemptedAt: Date, outcome: SendOutcome, random: () => number): Promise<void> {
  const { workspace_id: workspaceId, id, endpoint_id: endpointId } = delivery;
  const error = outcome.error ?? (isSuccess(outcome) ? null : `HTTP ${outcome.statusCode}`);
  await withTransaction(services.pool, async (client) => {
    // The row lock orders this write after a concurrent redelivery (or another attempt's outcome),
    // and numbers the attempts of one delivery without two writers picking the same number.
    const { rows: current } = await client.query<{ generation: number }>(
      'select generation from webhook_deliveries where workspace_id = $1 and id = $2 for update',
      [workspaceId, id],
    );
    if (!current[0]) {
      // Its endpoint was deleted (with its deliveries and their log) while the request was out.
      services.log.info({ workspaceId, deliveryId: id, webhookId: endpointId }, 'webhook attempt finished after its endpoint was deleted; nothing recorded');
      return;
    }
    await client.query(
      `insert into webhook_attempts (workspace_id, delivery_id, attempt, endpoint_id, status_code, error, duration_ms, attempted_at)
       values ($1, $2, (select coalesce(max(attempt), 0) + 1 from webhook_attempts where workspace_id = $1 and delivery_id = $2), $3, $4, $5, $6, $7)`,
      [workspaceId, id, endpointId, outcome.statusCode, error?.slice(0, 500) ?? null, outcome.durationMs, attemptedAt],
    );
    // An answer is news about the endpoint's health whichever state the delivery is in now.
    if (isSuccess(outcome)) {
      // Attempts finish out of order: an older request answered late must not move it backwards.
      await client.query('update webhook_endpoints set last_success_at = greatest(last_success_at, $3) where workspace_id = $1 and id = $2', [workspaceId, endpointId, attemptedAt]);
    }
    // The request was made, so it stays in the log; but the delivery has moved on since this attempt
    // claimed it (a manual redelivery asked for a fresh send, or a lapsed claim was taken over), and
    // that newer state stands.
    if (current[0].generation !== delivery.generation) {
      services.log.info({ workspaceId, deliveryId: id }, 'webhook attempt finished after its delivery was redelivered or reclaimed; its outcome is only logged');
      return;
    }
    if (isSuccess(outcome)) {
      await client.query(
        `update webhook_deliveries set status = 'delivered', delivered_at = $3, next_attempt_at = null, locked_until = null where workspace_id = $1 and id = $2`,
        [workspaceId, id, attemptedAt],
      );
      return;
    }
    const failedAttempts = delivery.failed_attempts + 1;
    const next = nextAttemptAt(failedAttempts, attemptedAt, random);
    await client.query(
      `update webhook_deliveries set status = $3, failed_attempts = $4, next_attempt_at = $5, locked_until = null where workspace_id = $1 and id = $2`,
      [workspaceId, id, next ? 'pending' : 'failed', failedAttempts, next],
    );
    if (!next) await disableIfPersistentlyFailing(services, client, delivery, attemptedAt);
  });
}

/**
 * A delivery that used all its attempts (about a day of retries) without the endpoint answering
 * any other delivery successfully in that time means the receiver is gone: stop sending, say why,
 * and leave a notice in the audit trail. An admin re-enables it with PATCH {enabled: true}.
 */
async function disableIfPersistentlyFailing(
  services: Services,
  client: pg.PoolClient,
  delivery: ClaimedDelivery,
  at: Date,
): Promise<void> {
  const reason = `Disabled after ${MAX_DELIVERY_ATTEMPTS} failed attempts of delivery ${delivery.id} with no successful delivery since ${delivery.created_at.toISOString()}`;
  const { rows } = await client.query<{ url: string }>(
    `update webhook_endpoints set enabled = false, disabled_at = $3, disabled_reason = $4
      where workspace_id = $1 and id = $2 and enabled and (last_success_at is null or last_success_at < $5)
      returning url`,
    [delivery.workspace_id, delivery.endpoint_id, at, reason, delivery.created_at],
  );
  if (!rows[0]) return;
  await recordAudit(client, {
    workspaceId: delivery.workspace_id,
    actor: { kind: 'system', id: null },
    action: 'webhook.disabled',
    target: { type: 'webhook', id: delivery.endpoint_id },
    before: { enabled: true },
    after: { enabled: false, reason },
  });
  services.log.warn({ workspaceId: delivery.workspace_id, webhookId: delivery.endpoint_id, url: rows[0].url }, 'webhook endpoint disabled after persistent failure');
}

/** `POST /webhooks/:id/test`: a `webhook.test` delivery to one endpoint, sent like any other. */
export async function sendTestEvent(services: Services, workspaceId: string, endpointId: string): Promise<WebhookDeliveryView> {
  await getEndpointRow(services.pool, workspaceId, endpointId);
  const id = newId('dlv');
  const now = services.now();
  await services.pool.query(
    `insert into webhook_deliveries (workspace_id, id, endpoint_id, event_id, event_type, body, status, next_attempt_at, created_at)
     values ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)`,
    [workspaceId, id, endpointId, newId('evt'), TEST_EVENT_TYPE, webhookBodyJson(TEST_EVENT_TYPE, now, { message: 'A test event from Tandem', webhookId: endpointId }), now],
  );
  await services.queue.enqueue(DELIVER_QUEUE);
  return getDelivery(services.pool, workspaceId, endpointId, id);
}
