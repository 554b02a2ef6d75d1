import type pg from 'pg';
import { resolveFraudSettings } from '@tandem/core';
import type { Services } from '../../http/context.js';
import type { AttributedTo, CommissionSummary, ConversionHooks, DeferredWrite, HookWrites, ReadAlong } from '../tracking/hooks.js';
import { holdCommission } from '../rewards/index.js';
import { assessCommission } from './assess.js';
import { loadPartnerFacts, partnerFactsFrom, partnerFactsQuery, type PartnerFactsRow } from './facts.js';

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
    readsAlong?: readonly ReadAlong[] | undefined;
    writeDeferred?: (() => Promise<void>) | undefined;
  },
  kind: 'lead' | 'sale',
): Promise<{ commission?: CommissionSummary } & HookWrites> {
  const { attribution, commission } = event;
  // Only a pending commission the rewards hook handed over for this conversion is scored.
  if (!attribution || !commission || commission.status !== 'pending') return {};
  // The partner's facts, the program's fraud settings, the customer's email hash and whether this
  // commission was scored before: read by the rewards hook's state read when it could (a commission
  // made after it cannot have been scored), else in a round trip of our own.
  const riding = event.readsAlong?.find((r) => r.owner === PARTNER_FACTS_READ && r.answered);
  const loaded = riding
    ? riding.answer
      ? partnerFactsFrom(services, event.workspaceId, attribution.partnerId, riding.answer as PartnerFactsRow)
      : null
    : await loadPartnerFacts(client, services, event.workspaceId, attribution.partnerId, attribution.programId, { customerId: event.customerId, commissionId: commission.id });
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
  // The commission may still be a deferred write of the rewards hook: it must exist to be held.
  await event.writeDeferred?.();
  await holdCommission(client, { workspaceId: event.workspaceId, commissionId: commission.id, reason, now: services.now() });
  return { commission: { id: commission.id, amount: commission.amount, status: 'held' }, deferred };
}

const PARTNER_FACTS_READ = 'fraud.partnerFacts';

export const fraudConversionHooks: ConversionHooks = {
  offerSaleReads(event) {
    const { attribution } = event;
    if (!attribution) return [];
    return [
      {
        owner: PARTNER_FACTS_READ,
        answered: false,
        answer: null,
        // Answered by the rewards hook's state read, before the commission exists: it cannot have been scored.
        sql: (firstParam) => {
          const { sql, params } = partnerFactsQuery(event.workspaceId, attribution.partnerId, attribution.programId, { customerId: event.customerId, commissionId: null }, firstParam);
          return { sql: `select row_to_json(f) from (${sql}) f`, params };
        },
      },
    ];
  },
  async onLead(client, services, event) {
    return assessNewCommission(client, services, event, 'lead');
  },
  async onSale(client, services, event) {
    return assessNewCommission(client, services, event, 'sale');
  },
};
