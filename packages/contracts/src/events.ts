import { z } from 'zod';
import { currency, isoDateTime, minorUnits } from './common.js';

/**
 * Domain events Tandem emits through its outbox, and the `data` each one carries in a webhook
 * body `{type, timestamp, data}`. The schemas document the payloads (they appear in the OpenAPI
 * document under `webhooks`); producers may add fields, never remove or rename them.
 */
export const EVENT_TYPES = [
  'partner.enrolled',
  'lead.created',
  'sale.created',
  'refund.created',
  'commission.created',
  'commission.payable',
  'commission.reversed',
  'commission.held',
  'commission.released',
  'payout.created',
  'payout.paid',
  'payout.failed',
  'dispute.created',
  'dispute.updated',
  'dispute.decided',
  'partnership.settled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const eventType = z.enum(EVENT_TYPES);

/** Sent by `POST /api/v1/webhooks/:id/test`; never emitted by the domain. */
export const TEST_EVENT_TYPE = 'webhook.test';

const commissionData = z.object({
  id: z.string(),
  programId: z.string(),
  partnerId: z.string(),
  customerId: z.string().nullish(),
  saleId: z.string().nullish(),
  kind: z.string(),
  amount: minorUnits,
  currency,
  status: z.string(),
});

const payoutData = z.object({
  id: z.string(),
  batchId: z.string().nullish(),
  programId: z.string().nullish(),
  partnerId: z.string(),
  amount: minorUnits,
  currency,
  status: z.string(),
  reference: z.string().nullish(),
  failureReason: z.string().nullish().describe('Why the payment failed (`payout.failed`), as the payout object says; null otherwise, absent in events recorded before it was added'),
});

const disputeData = z.object({
  id: z.string(),
  status: z.string(),
  commissionId: z.string().nullish(),
  partnerId: z.string().nullish(),
  decision: z.string().nullish(),
});

/** The `data` of each event type. Fields marked nullish may be absent when not applicable. */
export const eventDataSchemas = {
  'partner.enrolled': z.object({
    partnerId: z.string(),
    enrollmentId: z.string(),
    programId: z.string(),
    status: z.string(),
    email: z.string().nullish().describe("The partner's email"),
    name: z.string().nullish(),
  }),
  'lead.created': z.object({
    id: z.string().describe('The lead id (`led_…`)'),
    customerId: z.string(),
    externalId: z.string(),
    eventName: z.string().nullish(),
    partnerId: z.string().nullish(),
    programId: z.string().nullish(),
    occurredAt: isoDateTime.nullish(),
  }),
  'sale.created': z.object({
    id: z.string(),
    customerId: z.string(),
    invoiceId: z.string(),
    amount: minorUnits,
    currency,
    partnerId: z.string().nullish(),
    programId: z.string().nullish(),
    occurredAt: isoDateTime.nullish(),
  }),
  'refund.created': z.object({
    id: z.string(),
    saleId: z.string(),
    invoiceId: z.string().nullish(),
    amount: minorUnits,
    currency: currency.nullish(),
  }),
  'commission.created': commissionData,
  'commission.payable': commissionData,
  'commission.reversed': commissionData,
  'commission.held': commissionData.extend({ reason: z.string().nullish() }),
  'commission.released': commissionData.extend({ reason: z.string().nullish() }),
  'payout.created': payoutData,
  'payout.paid': payoutData,
  'payout.failed': payoutData,
  'dispute.created': disputeData,
  'dispute.updated': disputeData,
  'dispute.decided': disputeData,
  'partnership.settled': z.object({
    id: z.string().describe('The settlement id (`stl_…`), the same in both member workspaces'),
    partnershipId: z.string(),
    currency,
    gross: z.array(z.object({ owedByWorkspaceId: z.string(), owedToWorkspaceId: z.string(), amount: minorUnits })),
    offset: minorUnits,
    net: z.object({ owedByWorkspaceId: z.string().nullable(), owedToWorkspaceId: z.string().nullable(), amount: minorUnits, payoutId: z.string().nullable(), payoutIds: z.array(z.string()).optional().describe('Every payout of the difference; absent in events recorded before it was added') }),
  }),
} satisfies Record<EventType, z.ZodType>;

export const testEventData = z.object({ message: z.string(), webhookId: z.string() });

/** The JSON body of every webhook request. */
export const webhookBody = <T extends z.ZodType>(type: string, data: T) =>
  z.object({
    type: z.literal(type),
    timestamp: isoDateTime.describe('When the event happened'),
    data,
  });

/** The full request body of every webhook type, for the OpenAPI document's `webhooks` section. */
export const webhookPayloads: Record<string, z.ZodType> = {
  ...Object.fromEntries(EVENT_TYPES.map((type) => [type, webhookBody(type, eventDataSchemas[type])])),
  [TEST_EVENT_TYPE]: webhookBody(TEST_EVENT_TYPE, testEventData),
};
