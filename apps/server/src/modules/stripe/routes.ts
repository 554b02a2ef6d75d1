import { endpoints } from '@tandem/contracts';
import { encryptValue } from '../../security/encryption.js';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../../http/context.js';
import type { Router } from '../../http/router.js';
import { recordAudit, actorOf } from '../audit/record.js';
import { withTransaction } from '../../db/tx.js';
import { handleStripeWebhook, STRIPE_WEBHOOK_PATH } from './webhook.js';

function webhookUrl(services: Services, req: FastifyRequest, workspaceId: string): string {
  const base = services.config.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
  return `${base}${STRIPE_WEBHOOK_PATH}?workspace=${encodeURIComponent(workspaceId)}`;
}

export function stripeRoutes(r: Router): void {
  r.handle(endpoints.getStripeSettings, async ({ auth, services, req }) => {
    const { rows } = await services.pool.query<{ updated_at: Date }>('select updated_at from stripe_settings where workspace_id = $1', [
      auth.workspaceId,
    ]);
    return {
      configured: rows.length > 0,
      webhookUrl: webhookUrl(services, req, auth.workspaceId),
      updatedAt: rows[0]?.updated_at.toISOString() ?? null,
    };
  });

  r.handle(endpoints.putStripeSettings, async ({ body, auth, services, req }) => {
    const updatedAt = services.now();
    await withTransaction(services.pool, async (client) => {
      await client.query(
        `insert into stripe_settings (workspace_id, endpoint_secret, updated_at) values ($1, $2, $3)
         on conflict (workspace_id) do update set endpoint_secret = excluded.endpoint_secret, updated_at = excluded.updated_at`,
        // Kept encrypted: it must be read back to verify signatures, so it cannot be hashed.
        [auth.workspaceId, encryptValue(services.secret, 'stripe-endpoint-secret', body.endpointSecret), updatedAt],
      );
      // Never the secret itself in the audit log.
      await recordAudit(client, {
        workspaceId: auth.workspaceId,
        actor: actorOf(auth),
        action: 'integration.stripe_configured',
        target: { type: 'workspace', id: auth.workspaceId },
      });
    });
    return { configured: true, webhookUrl: webhookUrl(services, req, auth.workspaceId), updatedAt: updatedAt.toISOString() };
  });

  r.handle(endpoints.stripeWebhook, async ({ query, services, req }) => {
    const signature = req.headers['stripe-signature'];
    const result = await handleStripeWebhook(
      services,
      query.workspace,
      Array.isArray(signature) ? signature[0] : signature,
      req.stripeRawBody,
    );
    req.log.info({ workspaceId: query.workspace, outcome: result.outcome, targetId: result.targetId }, 'stripe webhook');
    return result;
  });
}
