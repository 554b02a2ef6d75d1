import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { currency, isoDateTime, listQuery, minorUnits, page, idParams } from './common.js';
import { rulesDocument } from './rules.js';

export const commissionKind = z.enum(['lead', 'sale', 'bonus', 'clawback', 'adjustment']);
export const commissionStatus = z.enum(['pending', 'held', 'payable', 'paid', 'reversed']);

export const explanationStep = z
  .object({
    step: z.enum(['eligibility', 'base', 'tier', 'modifier', 'amount', 'boost', 'cap', 'status']),
    text: z.string().describe('Human-readable, with the numbers used'),
    amount: minorUnits.optional().describe('The running amount after this step'),
  })
  .meta({ id: 'ExplanationStep' });

export const commission = z
  .object({
    id: z.string(),
    programId: z.string(),
    partnerId: z.string(),
    customerId: z.string().nullable().optional(),
    saleId: z.string().nullable().optional(),
    kind: commissionKind,
    amount: minorUnits.describe('As computed; negative for clawbacks'),
    reversedAmount: minorUnits.describe('Reduced by reversals; the commission now counts amount − reversedAmount'),
    currency,
    status: commissionStatus,
    rulesVersion: z.number().int(),
    termsVersion: z.number().int().nullable(),
    occurredAt: isoDateTime,
    payableAt: isoDateTime,
    reason: z.string().nullable().optional(),
    payoutId: z.string().nullable(),
    explanation: z.array(explanationStep),
  })
  .meta({ id: 'Commission' });

export const commissionsQuery = listQuery.extend({
  programId: z.string().min(1).max(64).optional(),
  partnerId: z.string().min(1).max(64).optional(),
  status: commissionStatus.optional(),
});

export const matureBody = z.strictObject({ asOf: isoDateTime.optional().describe('Default: now') });
export const matureResponse = z.object({
  payable: z.number().int().describe('Commissions that became payable'),
  qualified: z.number().int().describe('Referrals that qualified'),
  bonuses: z.number().int().describe('Bonuses awarded'),
});

export const balanceQuery = z.strictObject({ programId: z.string().min(1).max(64) });
export const balance = z
  .object({ currency, pending: minorUnits, payable: minorUnits.describe('May be negative after a clawback'), paid: minorUnits })
  .meta({ id: 'PartnerBalance' });

export const previewEvent = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('sale'),
    amount: z.number().int().min(0),
    currency: currency.optional(),
    productId: z.string().max(200).optional(),
    customerCountry: z.string().max(2).optional(),
    customerId: z.string().max(64).optional().describe("An existing customer: counts the sale's duration from their first sale"),
    occurredAt: isoDateTime.optional(),
  }),
  z.strictObject({ type: z.literal('lead'), customerCountry: z.string().max(2).optional(), occurredAt: isoDateTime.optional() }),
]);
export const previewBody = z.strictObject({
  partnerId: z.string().min(1).max(64),
  event: previewEvent,
  rules: rulesDocument.optional().describe('Unsaved rules to try; default the current version'),
});
export const previewResponse = z.object({
  earns: z.boolean(),
  amount: minorUnits,
  currency,
  reason: z.string().nullable(),
  payableAt: isoDateTime,
  rulesVersion: z.number().int().nullable().describe('null when previewing unsaved rules'),
  explanation: z.array(explanationStep),
});

const tag = 'Commissions';
export const commissionEndpoints = {
  listCommissions: defineEndpoint({
    method: 'GET', path: '/api/v1/commissions', operationId: 'listCommissions', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Commissions, newest first', query: commissionsQuery, status: 200, response: page(commission),
  }),
  runMaturity: defineEndpoint({
    method: 'POST', path: '/api/v1/jobs/mature', operationId: 'runMaturity', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Run the maturity process now (it also runs every minute)',
    description: 'pending → payable when payableAt ≤ asOf; referrals qualify; bonuses are awarded. Idempotent.',
    body: matureBody, status: 200, response: matureResponse,
  }),
  partnerBalance: defineEndpoint({
    method: 'GET', path: '/api/v1/partners/:id/balance', operationId: 'partnerBalance', tag, auth: { kind: 'scope', scope: 'read' },
    summary: "A partner's balance in a program, derived from the ledger's postings", params: idParams, query: balanceQuery, status: 200, response: balance,
  }),
  previewCommission: defineEndpoint({
    method: 'POST', path: '/api/v1/programs/:id/preview', operationId: 'previewCommission', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'What would partner P earn for this event now, with the explanation', params: idParams, body: previewBody, status: 200, response: previewResponse,
  }),
};
