import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { currency, idParams, isoDateTime, listQuery, minorUnits, page } from './common.js';

/*
 * Fraud guardrails. The per-rule setting schemas live here (the rule registry in @tandem/core
 * uses them) so the HTTP contract and the rules can never disagree about a setting.
 */

const base = { enabled: z.boolean(), weight: z.number().int().min(0).max(100) };

export const selfReferralConfig = z.strictObject({ ...base });
export const duplicateIdentityConfig = z.strictObject({
  ...base,
  windowHours: z.number().int().min(1).max(24 * 90),
  /** Fires when at least this many distinct customers share one IP hash or device fingerprint. */
  minCustomers: z.number().int().min(2).max(10_000),
});
export const clickVelocityConfig = z.strictObject({
  ...base,
  windowMinutes: z.number().int().min(1).max(24 * 60),
  /** Clicks from one IP hash within the window above which the rule fires. */
  maxClicksPerIp: z.number().int().min(1).max(1_000_000),
  /** Clicks on one link within the window above which the rule fires. */
  maxClicksPerLink: z.number().int().min(1).max(10_000_000),
});
export const instantConversionConfig = z.strictObject({
  ...base,
  /** A conversion sooner than this many seconds after its click fires the rule. */
  minSeconds: z.number().int().min(1).max(24 * 3600),
});
export const noClickNoCouponConfig = z.strictObject({ ...base });
export const disposableEmailConfig = z.strictObject({
  ...base,
  extraDomains: z.array(z.string().trim().toLowerCase().min(3).max(253)).max(1000),
});
export const paidAdClickConfig = z.strictObject({
  ...base,
  /** Off by default: only a program whose terms forbid paid search turns it on. */
  forbidPaidSearch: z.boolean(),
  params: z.array(z.string().trim().toLowerCase().min(1).max(40)).min(1).max(50),
});
export const refundRateConfig = z.strictObject({
  ...base,
  /** Fires when more than this percentage of the partner's sales were refunded… */
  maxRefundPercent: z.number().int().min(0).max(100),
  /** …once it has at least this many sales (a single refund out of two proves nothing). */
  minSales: z.number().int().min(1).max(100_000),
});
export const sharedPayoutConfig = z.strictObject({ ...base });
export const sharedLoginConfig = z.strictObject({ ...base });


/** Schema of a program's fraud settings as stored and as edited: every part optional, unknown keys refused. */
export const fraudSettingsSchema = z.strictObject({
  holdThreshold: z.number().int().min(1).max(100).optional(),
  rules: z
    .strictObject({
      self_referral: selfReferralConfig.partial().optional(),
      duplicate_identity: duplicateIdentityConfig.partial().optional(),
      click_velocity: clickVelocityConfig.partial().optional(),
      instant_conversion: instantConversionConfig.partial().optional(),
      no_click_no_coupon: noClickNoCouponConfig.partial().optional(),
      disposable_email: disposableEmailConfig.partial().optional(),
      paid_ad_click: paidAdClickConfig.partial().optional(),
      refund_rate: refundRateConfig.partial().optional(),
      shared_payout_details: sharedPayoutConfig.partial().optional(),
      shared_login: sharedLoginConfig.partial().optional(),
    })
    .optional(),
});

export const fraudRuleType = z.enum([
  'self_referral', 'duplicate_identity', 'click_velocity', 'instant_conversion', 'no_click_no_coupon',
  'disposable_email', 'paid_ad_click', 'refund_rate', 'shared_payout_details', 'shared_login',
]);

export const fraudSettingsResponse = z
  .object({
    programId: z.string(),
    holdThreshold: z.number().int().describe('Risk score (0–100) at or above which a commission is held'),
    rules: z.record(fraudRuleType, z.record(z.string(), z.unknown())).describe('Effective settings of every rule: defaults with the program’s overrides'),
    overrides: fraudSettingsSchema.describe('Only what the program changed from the defaults'),
  })
  .meta({ id: 'FraudSettings' });

export const fraudSignal = z
  .object({
    type: fraudRuleType,
    weight: z.number().int(),
    strong: z.boolean().describe('Holds the commission on its own'),
    summary: z.string(),
    evidence: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'FraudSignal' });

export const reviewItem = z
  .object({
    commissionId: z.string(),
    programId: z.string(),
    partnerId: z.string(),
    amount: minorUnits,
    currency,
    commissionStatus: z.string(),
    score: z.number().int(),
    heldBy: z.enum(['score', 'ban']).nullable(),
    review: z.enum(['none', 'pending', 'released', 'rejected']),
    reviewReason: z.string().nullable(),
    reviewedAt: isoDateTime.nullable(),
    signals: z.array(fraudSignal),
    createdAt: isoDateTime,
  })
  .meta({ id: 'ReviewItem' });

export const listReviewsQuery = listQuery.extend({
  programId: z.string().min(1).max(64).optional(),
  partnerId: z.string().min(1).max(64).optional(),
  status: z.enum(['held', 'released', 'rejected']).default('held').describe('`held` is the queue; the others are its history'),
});
export const reviewDecisionBody = z.strictObject({ reason: z.string().trim().min(1, 'is required').max(2000) });
export const bulkReviewBody = z.strictObject({
  commissionIds: z.array(z.string().min(1).max(64)).min(1).max(100),
  action: z.enum(['release', 'reject']),
  reason: z.string().trim().min(1, 'is required').max(2000),
});
export const bulkReviewResponse = z.object({
  results: z.array(z.object({ commissionId: z.string(), ok: z.boolean(), error: z.string().optional() })),
});
export const commissionParams = z.strictObject({ commissionId: z.string().min(1).max(64) });

export const partnerRisk = z
  .object({
    partnerId: z.string(),
    programId: z.string().nullable(),
    score: z.number().int().describe('0–100, from the partner-scope rules (refund rate, shared identities)'),
    signals: z.array(fraudSignal),
    heldCommissions: z.number().int(),
    conversionsAssessed: z.number().int(),
    averageConversionScore: z.number().int(),
  })
  .meta({ id: 'PartnerRisk' });
export const partnerRiskQuery = z.strictObject({ programId: z.string().min(1).max(64).optional() });

export const payoutIdentityBody = z.strictObject({
  details: z.string().trim().min(3, 'is required').max(500).describe('Payout details as the payout provider knows them (IBAN, PayPal email, …); stored only as a keyed hash'),
});

const tag = 'Fraud';
export const fraudEndpoints = {
  getFraudSettings: defineEndpoint({
    method: 'GET', path: '/api/v1/programs/:id/fraud-settings', operationId: 'getFraudSettings', tag, auth: { kind: 'scope', scope: 'read' },
    summary: "A program's fraud rules and hold threshold", params: idParams, status: 200, response: fraudSettingsResponse,
  }),
  updateFraudSettings: defineEndpoint({
    method: 'PUT', path: '/api/v1/programs/:id/fraud-settings', operationId: 'updateFraudSettings', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Change rule settings (merged key by key over the current ones)', params: idParams, body: fraudSettingsSchema, status: 200, response: fraudSettingsResponse,
  }),
  listReviews: defineEndpoint({
    method: 'GET', path: '/api/v1/reviews', operationId: 'listReviews', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'The review queue: held commissions with the signals and evidence that held them', query: listReviewsQuery, status: 200, response: page(reviewItem),
  }),
  getReview: defineEndpoint({
    method: 'GET', path: '/api/v1/reviews/:commissionId', operationId: 'getReview', tag, auth: { kind: 'scope', scope: 'read' },
    summary: "Any scored commission's risk: score, the rules that fired and their evidence, and its review", params: commissionParams, status: 200, response: reviewItem,
  }),
  releaseReview: defineEndpoint({
    method: 'POST', path: '/api/v1/reviews/:commissionId/release', operationId: 'releaseReview', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Release a held commission into its normal lifecycle', params: commissionParams, body: reviewDecisionBody, status: 200, response: reviewItem,
  }),
  rejectReview: defineEndpoint({
    method: 'POST', path: '/api/v1/reviews/:commissionId/reject', operationId: 'rejectReview', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Reject a held commission (it is reversed)', params: commissionParams, body: reviewDecisionBody, status: 200, response: reviewItem,
  }),
  bulkReview: defineEndpoint({
    method: 'POST', path: '/api/v1/reviews/bulk', operationId: 'bulkReview', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Release or reject many held commissions; each succeeds or fails on its own', body: bulkReviewBody, status: 200, response: bulkReviewResponse,
  }),
  addPayoutIdentity: defineEndpoint({
    method: 'POST', path: '/api/v1/partners/:id/payout-identities', operationId: 'addPayoutIdentity', tag, auth: { kind: 'scope', scope: 'write' },
    summary: "Register a partner's payout details for the shared-payout check (kept only as a keyed hash)", params: idParams, body: payoutIdentityBody, status: 204,
  }),
  getPartnerRisk: defineEndpoint({
    method: 'GET', path: '/api/v1/partners/:id/risk', operationId: 'getPartnerRisk', tag, auth: { kind: 'scope', scope: 'read' },
    summary: "A partner's risk score with its signals", params: idParams, query: partnerRiskQuery, status: 200, response: partnerRisk,
  }),
} as const;
