import { addConversionHooks } from '../tracking/hooks.js';
import { applyPendingRefunds } from './refunds.js';

/*
 * A Stripe refund that came before its sale waits for it (refunds.ts), whichever way the sale is
 * recorded: the Stripe webhook, `POST /api/v1/track/sale` or a conversions import, under the invoice
 * id or payment reference the refund names (its `refs` include the charge's `metadata.invoiceId`) —
 * the same match a refund that comes after its sale makes. Refunds are only accepted with the
 * workspace's Stripe endpoint secret, which is never removed, so only the sales of a workspace that
 * has one look, after their commit (one read when nothing waits); the others pay nothing. (A secret
 * saved while a sale's transaction runs, and a refund of that very sale delivered and kept before the
 * sale commits, would be missed: the sale read no secret, and the refund found no committed sale.)
 */
addConversionHooks({
  afterSale: {
    wanted: 'exists (select 1 from stripe_settings where workspace_id = $1)',
    run: async (services, sale) => void (await applyPendingRefunds(services, sale.workspaceId, { saleId: sale.saleId })),
  },
});
