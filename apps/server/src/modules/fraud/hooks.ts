import type pg from 'pg';
import { resolveFraudSettings, type FraudSettingsOverrides } from '@tandem/core';
import type { Services } from '../../http/context.js';
import type { AttributedTo, CommissionSummary, ConversionHooks } from '../tracking/hooks.js';
import { holdCommission } from '../rewards/index.js';
import { assessCommission } from './assess.js';

/*
 * Fraud checks run after the rewards hooks in the same tracking transaction (registered after
 * them in app.ts): the commission the rewards engine just created is scored, and held when the
 * score passes the program's threshold, before anything commits. The response then reports it
 * as `held`.
 */

async function assessNewCommission(
  client: pg.PoolClient,
  services: Services,
  event: { workspaceId: string; customerId: string; occurredAt: Date; attribution: AttributedTo | null; customerEmail?: string | null | undefined },
  kind: 'lead' | 'sale',
  commissionColumn: 'lead_id' | 'sale_id',
  conversionId: string,
): Promise<{ commission?: CommissionSummary }> {
  const attribution = event.attribution;
  if (!attribution) return {};
  // The program's fraud settings and the customer's stored email hash come with the commission:
  // two round trips fewer per conversion (each costs a socket write on a busy machine).
  const { rows } = await client.query<{
    id: string;
    amount: string;
    status: CommissionSummary['status'];
    fraud_overrides: FraudSettingsOverrides | null;
    customer_email_hash: string | null;
  }>(
    `select c.id, c.amount, c.status,
            (select s.overrides from fraud_settings s where s.workspace_id = $1 and s.program_id = $4) as fraud_overrides,
            (select cu.email_hash from customers cu where cu.workspace_id = $1 and cu.id = $5) as customer_email_hash
       from commissions c
      where c.workspace_id = $1 and c.${commissionColumn} = $2 and c.kind = $3 and c.status = 'pending'
        and not exists (select 1 from fraud_assessments a where a.workspace_id = c.workspace_id and a.commission_id = c.id)`,
    [event.workspaceId, conversionId, kind, attribution.programId, event.customerId],
  );
  const commission = rows[0];
  if (!commission) return {};
  const risk = await assessCommission(client, services, {
    workspaceId: event.workspaceId,
    programId: attribution.programId,
    partnerId: attribution.partnerId,
    commissionId: commission.id,
    kind,
    customerId: event.customerId,
    clickId: attribution.clickId,
    via: attribution.via,
    occurredAt: event.occurredAt,
    customerEmail: event.customerEmail ?? null,
    customerEmailHash: commission.customer_email_hash,
  }, resolveFraudSettings(commission.fraud_overrides ?? {}));
  if (!risk.hold) return {};
  const reason = `Held for review: risk ${risk.score} (${risk.signals.map((s) => s.type).join(', ')})`;
  await holdCommission(client, { workspaceId: event.workspaceId, commissionId: commission.id, reason, now: services.now() });
  return { commission: { id: commission.id, amount: Number(commission.amount), status: 'held' } };
}

export const fraudConversionHooks: ConversionHooks = {
  async onLead(client, services, event) {
    return assessNewCommission(client, services, event, 'lead', 'lead_id', event.leadId);
  },
  async onSale(client, services, event) {
    return assessNewCommission(client, services, event, 'sale', 'sale_id', event.saleId);
  },
};
