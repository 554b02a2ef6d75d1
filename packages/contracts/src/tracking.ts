import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { currency, isoDateTime } from './common.js';

/*
 * Conversion tracking (api.md "Tracking"): server-to-server calls with a secret key, plus the
 * Stripe webhook and the analytics summary built from the rollups they maintain.
 */

export const clickId = z
  .string()
  .regex(/^clk_[0-9a-f]{32}$/, 'must be a click id (clk_ + 32 hex digits)')
  .describe('The `tdm_click` value the visitor landed with');
export const couponCode = z.string().trim().min(1).max(64).describe("A partner's coupon code");
const externalId = z.string().trim().min(1, 'is required').max(200).describe("The brand's own id of the customer");
const country = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be an ISO-3166 alpha-2 code')
  .transform((c) => c.toUpperCase());
const consent = z
  .boolean()
  .default(true)
  .describe(
    'Whether the customer consented to being tracked (default true, for server-to-server calls made with consent). With `false` only what attribution needs is kept (the external id and the attributed partner/click): the email hash, name and country are not stored (and are erased if stored before), the touch history is not recorded, and the country is not used for reward rules',
  );

export const trackLeadBody = z.strictObject({
  clickId: clickId.optional(),
  couponCode: couponCode.optional(),
  customer: z.strictObject({
    externalId,
    email: z.email({ message: 'must be a valid email address' }).max(254).optional().describe('Stored only as a keyed hash'),
    name: z.string().trim().min(1).max(200).optional(),
    country: country.optional(),
  }),
  eventName: z.string().trim().min(1).max(100).default('sign_up').describe('Leads are idempotent per (customer, eventName)'),
  occurredAt: isoDateTime.optional().describe('Default now; may lie in the past, at most 5 minutes in the future'),
  consent,
});

export const trackSaleBody = z.strictObject({
  customer: z.strictObject({
    externalId,
    email: z.email().max(254).optional(),
    name: z.string().trim().min(1).max(200).optional(),
    country: country.optional(),
  }),
  amount: z.number().int().min(0).max(1e12).describe('Integer minor units'),
  currency: z
    .string()
    .transform((c) => c.toUpperCase())
    .pipe(currency),
  invoiceId: z.string().trim().min(1, 'is required').max(200).describe('Sales are idempotent per invoiceId'),
  occurredAt: isoDateTime.optional(),
  productId: z.string().trim().min(1).max(200).optional(),
  clickId: clickId.optional(),
  couponCode: couponCode.optional(),
  consent,
});

export const trackRefundBody = z.strictObject({
  invoiceId: z.string().trim().min(1, 'is required').max(200),
  amount: z.number().int().min(1).max(1e12).optional().describe('Default: everything not refunded yet'),
  occurredAt: isoDateTime.optional(),
});

const commissionSummary = z.object({
  id: z.string(),
  amount: z.number().int(),
  status: z.enum(['pending', 'held', 'payable', 'paid', 'reversed']),
});
const customerReward = z.object({
  type: z.enum(['flat', 'percentage']),
  amount: z.number(),
  durationMonths: z.number().int().optional(),
  code: z.string().nullable(),
});

export const trackLeadResponse = z
  .object({
    customer: z.object({ id: z.string(), externalId: z.string() }),
    lead: z.object({ id: z.string(), eventName: z.string() }),
    attributed: z.boolean(),
    partnerId: z.string().nullable(),
    commission: commissionSummary.optional(),
    customerReward: customerReward.optional(),
  })
  .meta({ id: 'TrackLeadResult' });

export const trackSaleResponse = z
  .object({
    sale: z.object({ id: z.string() }),
    customer: z.object({ id: z.string(), externalId: z.string() }),
    attributed: z.boolean(),
    partnerId: z.string().nullable(),
    commission: commissionSummary.optional(),
  })
  .meta({ id: 'TrackSaleResult' });

export const trackRefundResponse = z
  .object({
    refund: z.object({ id: z.string(), amount: z.number().int() }),
    sale: z.object({ id: z.string(), amount: z.number().int(), refundedAmount: z.number().int() }),
    adjustments: z.array(z.object({ commissionId: z.string(), amount: z.number().int() })),
  })
  .meta({ id: 'TrackRefundResult' });

export const stripeSettingsBody = z.strictObject({
  endpointSecret: z.string().regex(/^whsec_[A-Za-z0-9+/=_-]{8,200}$/, 'must be a Stripe endpoint secret (whsec_…)'),
});
export const stripeSettingsResponse = z.object({
  configured: z.boolean(),
  webhookUrl: z.string().describe('Give this URL to Stripe as the webhook endpoint'),
  updatedAt: isoDateTime.nullable(),
});
export const stripeWebhookQuery = z.strictObject({ workspace: z.string().min(1).max(64).describe('The workspace id (`ws_…`)') });
export const stripeWebhookResponse = z.object({
  received: z.literal(true),
  outcome: z.string().describe('`sale`, `lead` (a checkout with nothing to pay: it attributes the customer), `refund`, `refund_pending` (a refund whose sale has not arrived yet: applied when it does), `duplicate`, `duplicate_sale`, or `ignored:<why>`'),
  targetId: z.string().nullable(),
});

const dateOnly = z.iso.date().describe('YYYY-MM-DD (UTC)');
export const analyticsSummaryQuery = z.strictObject({
  programId: z.string().min(1).max(64).optional(),
  partnerId: z.string().min(1).max(64).optional(),
  from: dateOnly,
  to: dateOnly.describe('Inclusive'),
  interval: z.enum(['day']).default('day'),
});
const money = z.array(z.object({ currency: z.string(), amount: z.number().int() }));
const bucket = z.object({
  clicks: z.number().int(),
  leads: z.number().int(),
  sales: z.number().int(),
  revenue: money.describe('Gross sales per currency'),
  refunds: z.number().int(),
  refundedAmount: money,
});
export const analyticsSummaryResponse = z
  .object({
    from: z.string(),
    to: z.string(),
    interval: z.literal('day'),
    totals: bucket.extend({
      conversionRate: z.number().nullable().describe('Sales per click (null without clicks)'),
      leadRate: z.number().nullable().describe('Leads per click (null without clicks)'),
      epc: money.describe('Net revenue per click, minor units, rounded'),
    }),
    series: z.array(bucket.extend({ date: z.string() })),
  })
  .meta({ id: 'AnalyticsSummary' });

export const topPartnersQuery = z.strictObject({
  programId: z.string().min(1).max(64).optional(),
  from: dateOnly,
  to: dateOnly.describe('Inclusive'),
  limit: z.coerce.number().int().min(1).max(100).default(10),
});
export const topPartner = z
  .object({
    partnerId: z.string(),
    name: z.string(),
    clicks: z.number().int(),
    leads: z.number().int(),
    sales: z.number().int(),
    revenue: money.describe('Net of refunds, per currency'),
    commissions: money.describe('Made in the period, net of reversals, per currency'),
    conversionRate: z.number().nullable().describe('Sales per click (null without clicks)'),
    epc: money.describe('Net revenue per click, minor units, rounded'),
  })
  .meta({ id: 'TopPartner' });
export const topPartnersResponse = z
  .object({ from: z.string(), to: z.string(), data: z.array(topPartner).describe('By sales, then net revenue, then clicks') })
  .meta({ id: 'TopPartners' });

export const segmentsQuery = z.strictObject({
  programId: z.string().min(1).max(64).optional(),
  from: dateOnly.describe('Cohort: customers whose first attributed sale falls in [from, to]'),
  to: dateOnly.describe('Inclusive'),
});
const retention = z
  .object({
    eligible: z.number().int().describe('Cohort customers whose first sale is at least this many days old'),
    share: z.number().nullable().describe('Of the eligible, the share meeting the condition (null when none is eligible)'),
  })
  .meta({ id: 'SegmentRetention' });
const atDays = z.object({ d30: retention, d60: retention, d90: retention });
export const segmentQuality = z
  .object({
    tag: z.string().nullable().describe('Partner tag; null: partners without tags'),
    partners: z.number().int(),
    customers: z.number().int(),
    active: atDays.describe('Bought (a sale not fully refunded) in the 30 days before day N after the first sale'),
    notRefunded: atDays.describe('No refund within N days of the first sale'),
    refundRate: z.number().nullable().describe('Share of the cohort’s customers with at least one refund'),
    revenuePerCustomer: money.describe('Net revenue of the cohort to date, per customer, per currency'),
  })
  .meta({ id: 'SegmentQuality' });
export const segmentsResponse = z.object({ from: z.string(), to: z.string(), data: z.array(segmentQuality) }).meta({ id: 'Segments' });

const tag = 'Tracking';
export const trackingEndpoints = {
  trackLead: defineEndpoint({
    method: 'POST',
    path: '/api/v1/track/lead',
    operationId: 'trackLead',
    tag,
    auth: { kind: 'scope', scope: 'write' },
    summary: 'Record a lead (sign-up); attributed by click id or coupon; idempotent per customer and event',
    body: trackLeadBody,
    status: 200,
    response: trackLeadResponse,
  }),
  trackSale: defineEndpoint({
    method: 'POST',
    path: '/api/v1/track/sale',
    operationId: 'trackSale',
    tag,
    auth: { kind: 'scope', scope: 'write' },
    summary: 'Record a sale; idempotent per invoiceId, even across server processes',
    body: trackSaleBody,
    status: 200,
    response: trackSaleResponse,
  }),
  trackRefund: defineEndpoint({
    method: 'POST',
    path: '/api/v1/track/refund',
    operationId: 'trackRefund',
    tag,
    auth: { kind: 'scope', scope: 'write' },
    summary: 'Refund a sale in full or in part; never beyond what is left; unknown invoice → 404',
    body: trackRefundBody,
    status: 200,
    response: trackRefundResponse,
  }),
  getStripeSettings: defineEndpoint({
    method: 'GET',
    path: '/api/v1/integrations/stripe',
    operationId: 'getStripeSettings',
    tag: 'Integrations',
    auth: { kind: 'scope', scope: 'admin' },
    summary: 'Whether Stripe is connected, and the webhook URL to give Stripe',
    status: 200,
    response: stripeSettingsResponse,
  }),
  putStripeSettings: defineEndpoint({
    method: 'PUT',
    path: '/api/v1/integrations/stripe',
    operationId: 'putStripeSettings',
    tag: 'Integrations',
    auth: { kind: 'scope', scope: 'admin' },
    summary: "Store the Stripe webhook endpoint's signing secret",
    body: stripeSettingsBody,
    status: 200,
    response: stripeSettingsResponse,
  }),
  stripeWebhook: defineEndpoint({
    method: 'POST',
    path: '/api/v1/integrations/stripe/webhook',
    operationId: 'stripeWebhook',
    tag: 'Integrations',
    auth: { kind: 'none' },
    summary: 'Stripe events (verified by Stripe-Signature): paid checkouts and invoices become sales, charge.refunded refunds',
    description:
      'Signature: HMAC-SHA256 of `${t}.${rawBody}` with the endpoint secret, 5-minute tolerance. Idempotent per Stripe event id.',
    query: stripeWebhookQuery,
    status: 200,
    response: stripeWebhookResponse,
  }),
  analyticsSummary: defineEndpoint({
    method: 'GET',
    path: '/api/v1/analytics/summary',
    operationId: 'analyticsSummary',
    tag: 'Analytics',
    auth: { kind: 'scope', scope: 'read' },
    summary: 'Clicks, leads, sales, revenue, conversion rate and EPC per day, from the rollups',
    query: analyticsSummaryQuery,
    status: 200,
    response: analyticsSummaryResponse,
  }),
  analyticsTopPartners: defineEndpoint({
    method: 'GET',
    path: '/api/v1/analytics/top-partners',
    operationId: 'analyticsTopPartners',
    tag: 'Analytics',
    auth: { kind: 'scope', scope: 'read' },
    summary: 'Clicks, leads, sales, revenue, commissions, conversion rate and EPC per partner, from the rollups',
    query: topPartnersQuery,
    status: 200,
    response: topPartnersResponse,
  }),
  analyticsSegments: defineEndpoint({
    method: 'GET',
    path: '/api/v1/analytics/segments',
    operationId: 'analyticsSegments',
    tag: 'Analytics',
    auth: { kind: 'scope', scope: 'read' },
    summary: 'Per partner tag: customers referred, share still active and not refunded after 30/60/90 days, refund rate, revenue per customer',
    query: segmentsQuery,
    status: 200,
    response: segmentsResponse,
  }),
} as const;
