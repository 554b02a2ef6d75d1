import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { currency, isoDateTime, listQuery, minorUnits, page, idParams } from './common.js';

export const payoutStatus = z.enum(['pending', 'processing', 'paid', 'failed']);
export const payout = z
  .object({
    id: z.string(),
    batchId: z.string(),
    programId: z.string(),
    partnerId: z.string(),
    amount: minorUnits,
    currency,
    status: payoutStatus,
    reference: z.string().nullable(),
    failureReason: z.string().nullable(),
    settlementId: z.string().nullable().describe('Set when the payout is the difference left by a partnership settlement'),
    createdAt: isoDateTime,
    paidAt: isoDateTime.nullable(),
  })
  .meta({ id: 'Payout' });

export const createPayoutsBody = z.strictObject({
  programId: z.string().min(1).max(64),
  minAmount: z.number().int().min(0).optional().describe("Default: the program's payout threshold"),
});
export const createPayoutsResponse = z.object({
  batchId: z.string(),
  provider: z.string().describe('`manual`: export the CSV, pay, then mark each payout paid'),
  payouts: z.array(z.object({ id: z.string(), partnerId: z.string(), amount: minorUnits, currency, status: payoutStatus })),
});
export const markPaidBody = z.strictObject({ reference: z.string().trim().min(1, 'is required').max(200) });
export const markFailedBody = z.strictObject({ reason: z.string().trim().min(1, 'is required').max(500) });
export const payoutsQuery = listQuery.extend({ programId: z.string().min(1).max(64).optional(), status: payoutStatus.optional() });
export const batchParams = z.strictObject({ batchId: z.string().min(1).max(64) });

const tag = 'Payouts';
export const payoutEndpoints = {
  createPayouts: defineEndpoint({
    method: 'POST', path: '/api/v1/payouts', operationId: 'createPayouts', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: "A batch: one payout per partner whose payable balance ≥ minAmount (negative balances carry over)", body: createPayoutsBody, status: 201, response: createPayoutsResponse,
  }),
  listPayouts: defineEndpoint({
    method: 'GET', path: '/api/v1/payouts', operationId: 'listPayouts', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Payouts, newest first', query: payoutsQuery, status: 200, response: page(payout),
  }),
  markPayoutProcessing: defineEndpoint({
    method: 'POST', path: '/api/v1/payouts/:id/processing', operationId: 'markPayoutProcessing', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'The money is on its way (pending → processing)', params: idParams, status: 200, response: payout,
  }),
  markPayoutPaid: defineEndpoint({
    method: 'POST', path: '/api/v1/payouts/:id/mark-paid', operationId: 'markPayoutPaid', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'The payout and its commissions become paid', params: idParams, body: markPaidBody, status: 200, response: payout,
  }),
  markPayoutFailed: defineEndpoint({
    method: 'POST', path: '/api/v1/payouts/:id/mark-failed', operationId: 'markPayoutFailed', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'The payment failed: its commissions return to payable. Retried with the same reason, it answers the failed payout unchanged', params: idParams, body: markFailedBody, status: 200, response: payout,
  }),
  payoutBatchCsv: defineEndpoint({
    method: 'GET', path: '/api/v1/payouts/batches/:batchId.csv', operationId: 'payoutBatchCsv', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'A batch as CSV for the manual payout provider', params: batchParams, status: 200, produces: 'text/csv',
  }),
};
