import type pg from 'pg';
import { resolveFraudSettings } from '@tandem/core';
import type { Services } from '../../http/context.js';
import type { AttributedTo, CommissionSummary, ConversionHooks, DeferredWrite, HookWrites } from '../tracking/hooks.js';
import { holdCommission } from '../rewards/index.js';
import { assessCommission } from './assess.js';
import { loadPartnerFacts } from './facts.js';

/*
 * Fraud checks run after the rewards hooks in the same tracking transaction (registered after
 * them in app.ts): the commission the rewards engine just created is scored, and held when the
 * score passes the program's threshold, before anything commits. The response then reports it
 * as `held`.
 */

async function assessNewCommission(
  client: pg.PoolClient,
  services: Services,
  event: {
    workspaceId: string;
    customerId: string;
    occurredAt: Date;
    attribution: AttributedTo | null;
    customerEmail?: string | null | undefined;
    commission?: CommissionSummary | undefined;
  },
  kind: 'lead' | 'sale',
): Promise<{ commission?: CommissionSummary } & HookWrites> {
  const { attribution, commission } = event;
  // Only a pending commission the rewards hook handed over for this conversion is scored.
  if (!attribution || !commission || commission.status !== 'pending') return {};
  // The partner's facts, the program's fraud settings, the customer's email hash and whether this
  // commission was scored before, in one round trip (this runs inside every attributed conversion).
  const loaded = await loadPartnerFacts(client, services, event.workspaceId, attribution.partnerId, attribution.programId, {
    customerId: event.customerId,
    commissionId: commission.id,
  });
  if (!loaded || loaded.context.assessed) return {};
  const deferred: DeferredWrite[] = [];
  const risk = await assessCommission(
    client,
    services,
    {
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
      customerEmailHash: loaded.context.customerEmailHash,
    },
    resolveFraudSettings(loaded.context.fraudOverrides ?? {}),
    loaded.facts,
    (write) => deferred.push(write),
  );
  if (!risk.hold) return { deferred };
  const reason = `Held for review: risk ${risk.score} (${risk.signals.map((s) => s.type).join(', ')})`;
  await holdCommission(client, { workspaceId: event.workspaceId, commissionId: commission.id, reason, now: services.now() });
  return { commission: { id: commission.id, amount: commission.amount, status: 'held' }, deferred };
}

export const fraudConversionHooks: ConversionHooks = {
  async onLead(client, services, event) {
    return assessNewCommission(client, services, event, 'lead');
  },
  async onSale(client, services, event) {
    return assessNewCommission(client, services, event, 'sale');
  },
};
