import type pg from 'pg';
import { decryptValue } from '../../security/encryption.js';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@tandem/contracts';
import type { Services } from '../../http/context.js';
import { recordIdempotently, ReplayedConversion, trackLead, trackSale } from '../tracking/record.js';
import { mapStripeEvent, type StripeAttribution, type StripeEvent } from './map.js';
import { applyPendingRefunds, applyStripeRefund, keepPendingRefund, lockSaleOfRefs } from './refunds.js';
import { verifyStripeSignature } from './signature.js';

export const STRIPE_WEBHOOK_PATH = '/api/v1/integrations/stripe/webhook';
const MAX_BODY = 1024 * 1024;

/** The lead a checkout records for its customer's attribution (see map.ts). */
const leadInput = (intent: StripeAttribution, eventName: string) => ({
  customer: intent.customer, eventName, occurredAt: intent.occurredAt, clickId: intent.clickId, couponCode: intent.couponCode,
});

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes of a Stripe webhook body: its signature covers them, not the parsed JSON. */
    stripeRawBody?: Buffer;
  }
}

/**
 * Keeps the raw body of Stripe webhook requests (and only those) before Fastify parses the JSON:
 * re-serialising the parsed object would not reproduce the signed bytes.
 */
export function registerStripeRawBody(app: FastifyInstance): void {
  app.addHook('preParsing', async (req, _reply, payload) => {
    if (req.method !== 'POST' || !req.url.startsWith(STRIPE_WEBHOOK_PATH)) return payload;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of payload) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buf.length;
      if (size > MAX_BODY) throw new ApiError('bad_request', 'Request body is larger than 1 MiB', undefined, 413);
      chunks.push(buf);
    }
    req.stripeRawBody = Buffer.concat(chunks);
    const replay = Readable.from([req.stripeRawBody]) as Readable & { receivedEncodedLength?: number };
    replay.receivedEncodedLength = req.stripeRawBody.length;
    return replay;
  });
}

export interface WebhookOutcome {
  received: true;
  outcome: string;
  targetId: string | null;
}

class ReplayedEvent extends Error {}

async function recordEvent(
  db: pg.PoolClient | pg.Pool,
  workspaceId: string,
  event: StripeEvent,
  outcome: string,
  targetId: string | null,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into stripe_events (workspace_id, event_id, type, outcome, target_id) values ($1, $2, $3, $4, $5) on conflict do nothing`,
    [workspaceId, event.id, event.type, outcome, targetId],
  );
  return rowCount === 1;
}

/** Verifies and applies one Stripe delivery for a workspace. */
export async function handleStripeWebhook(
  services: Services,
  workspaceId: string,
  signature: string | undefined,
  rawBody: Buffer | undefined,
): Promise<WebhookOutcome> {
  const { rows } = await services.pool.query<{ endpoint_secret: string }>(
    'select endpoint_secret from stripe_settings where workspace_id = $1',
    [workspaceId],
  );
  const stored = rows[0]?.endpoint_secret;
  if (!stored) throw new ApiError('not_found', 'Stripe is not configured for this workspace');
  const secret = decryptValue(services.secret, 'stripe-endpoint-secret', stored);
  if (!rawBody) throw new ApiError('bad_request', 'Empty webhook body');
  const check = verifyStripeSignature(signature, rawBody, secret, services.now().getTime());
  if (!check.ok) {
    const why = {
      missing: 'Missing Stripe-Signature header',
      malformed: 'Malformed Stripe-Signature header',
      mismatch: 'Stripe-Signature does not match',
      stale: 'Stripe-Signature timestamp is outside the 5-minute tolerance',
    }[check.reason];
    throw new ApiError('bad_request', why, [{ path: 'Stripe-Signature', message: check.reason }]);
  }
  let event: StripeEvent;
  try {
    event = JSON.parse(rawBody.toString('utf8')) as StripeEvent;
  } catch {
    throw new ApiError('bad_request', 'Webhook body is not JSON');
  }
  if (typeof event?.id !== 'string' || typeof event.type !== 'string' || typeof event.data !== 'object')
    throw new ApiError('bad_request', 'Not a Stripe event');

  const seen = await services.pool.query('select outcome, target_id from stripe_events where workspace_id = $1 and event_id = $2', [
    workspaceId,
    event.id,
  ]);
  if (seen.rowCount) {
    const { outcome, target_id: targetId } = seen.rows[0] as { outcome: string; target_id: string | null };
    // An earlier delivery committed but may have stopped before its waiting refunds were applied
    // (refunds.ts): Stripe retries until answered, so the retry finishes that work.
    if (targetId && (outcome === 'sale' || outcome === 'duplicate_sale')) await applyPendingRefunds(services, workspaceId, { saleId: targetId });
    if (outcome === 'refund_pending') {
      const intent = mapStripeEvent(event);
      if (intent.kind === 'refund') {
        const applied = (await applyPendingRefunds(services, workspaceId, { refs: intent.refs })).get(event.id);
        if (applied) return { received: true, outcome: 'duplicate', targetId: applied.targetId };
      }
    }
    return { received: true, outcome: 'duplicate', targetId };
  }

  const intent = mapStripeEvent(event);
  if (intent.kind === 'ignored') {
    const fresh = await recordEvent(services.pool, workspaceId, event, `ignored:${intent.why}`, null);
    return { received: true, outcome: fresh ? `ignored:${intent.why}` : 'duplicate', targetId: null };
  }

  if (intent.kind === 'lead') {
    const { body } = await trackLead(services, workspaceId, leadInput(intent, intent.eventName));
    // After the lead's own transaction: a redelivery before this insert replays the lead (its key is the customer and the session).
    const fresh = await recordEvent(services.pool, workspaceId, event, 'lead', body.lead.id);
    return { received: true, outcome: fresh ? 'lead' : 'duplicate', targetId: body.lead.id };
  }

  if (intent.kind === 'sale') {
    try {
      const { body, replayed } = await trackSale(
        services,
        workspaceId,
        {
          customer: intent.customer,
          amount: intent.amount,
          currency: intent.currency,
          invoiceId: intent.invoiceId,
          occurredAt: intent.occurredAt,
          clickId: intent.clickId,
          couponCode: intent.couponCode,
          paymentRef: intent.paymentRef,
          source: 'stripe',
        },
        async (client, sale) => {
          // The event id is claimed in the sale's own transaction: a racing redelivery rolls back.
          if (!(await recordEvent(client, workspaceId, event, 'sale', sale.sale.id))) throw new ReplayedEvent();
        },
      );
      // Refunds of this payment that Stripe delivered before it were applied by trackSale, after its commit (stripe/hooks.ts).
      if (replayed) {
        // Another event (checkout + invoice of one payment) or delivery already recorded this invoice.
        // Stripe does not order events: when the subscription's invoice came first, it carried no
        // click or coupon and was stored unattributed. The checkout's lead attributes the customer
        // now, so that the renewals are (that first sale stays as it was recorded).
        if (intent.checkoutLead && !body.attributed && (intent.clickId || intent.couponCode)) {
          // For the attribution only: had the checkout come first, it would have been a sale and no lead, so it earns nothing.
          await trackLead(services, workspaceId, { ...leadInput(intent, intent.checkoutLead), attributionOnly: true });
        }
        await recordEvent(services.pool, workspaceId, event, 'duplicate_sale', body.sale.id);
        return { received: true, outcome: 'duplicate_sale', targetId: body.sale.id };
      }
      return { received: true, outcome: 'sale', targetId: body.sale.id };
    } catch (error) {
      if (error instanceof ReplayedEvent) return { received: true, outcome: 'duplicate', targetId: null };
      throw error;
    }
  }

  // Refund: Stripe reports the cumulative refunded amount; apply what is new (refunds.ts).
  const refund = { eventId: event.id, chargeId: intent.chargeId, amountRefunded: intent.amountRefunded, currency: intent.currency, occurredAt: new Date(intent.occurredAt) };
  const result = await recordIdempotently(services, async (client) => {
    if (!(await recordEvent(client, workspaceId, event, 'refund', null)))
      throw new ReplayedConversion({ received: true as const, outcome: 'duplicate', targetId: null });
    const sale = await lockSaleOfRefs(client, workspaceId, intent.refs);
    if (sale) return { received: true as const, ...(await applyStripeRefund(client, services, workspaceId, sale, refund)) };
    // No sale yet: its event may still come (or a sale Tandem never sees, made before tracking began). Kept until then; acknowledged so Stripe stops retrying.
    await keepPendingRefund(client, workspaceId, intent.refs, refund);
    return { received: true as const, outcome: 'refund_pending', targetId: null };
  });
  if (result.body.outcome === 'refund_pending' && !result.replayed) {
    // The sale may have committed while this transaction ran, looking for nothing waiting yet.
    const applied = (await applyPendingRefunds(services, workspaceId, { refs: intent.refs })).get(event.id);
    if (applied) return { received: true, ...applied };
  }
  return result.body;
}
