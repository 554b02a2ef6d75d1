import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { email, idParams, isoDateTime, listQuery, minorUnits, page } from './common.js';

export const disputeStatus = z.enum(['open', 'under_review', 'accepted', 'rejected', 'withdrawn']);
export const disputeKind = z.enum(['commission', 'missing_credit', 'payout']);
export const deadlinePolicy = z
  .enum(['escalate', 'accept', 'reject'])
  .describe('Past the response deadline: flag and notify (`escalate`), or decide automatically');

const message = z.string().trim().min(1, 'is required').max(5000);
const evidenceUrls = z
  .array(z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2000))
  .max(20)
  .default([])
  .describe('Links to screenshots, order confirmations, …');

export const fileDisputeBody = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('commission'), commissionId: z.string().min(1).max(64), message, evidenceUrls }),
    z.strictObject({
      kind: z.literal('missing_credit'),
      programId: z.string().min(1).max(64),
      orderId: z.string().trim().min(1, 'is required').max(200).describe('Order or invoice id of the sale'),
      customerEmail: email,
      saleDate: z.iso.date().describe('Day of the sale (YYYY-MM-DD)'),
      message,
      evidenceUrls,
    }),
    z.strictObject({ kind: z.literal('payout'), payoutId: z.string().min(1).max(64), message, evidenceUrls }),
  ])
  .describe('What the dispute is about');

export const disputeResolution = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('adjustment'), amount: minorUnits.positive('must be positive').max(1_000_000_000) }),
    z.strictObject({ kind: z.literal('reattribute'), saleId: z.string().min(1).max(64) }),
    z.strictObject({ kind: z.literal('release_hold') }),
  ])
  .describe('The ledger effect of accepting: an adjustment commission, re-attributing a sale to the partner, or releasing a held commission');

export const disputeComment = z
  .object({ id: z.string(), author: z.enum(['brand', 'partner']), body: z.string(), createdAt: isoDateTime })
  .meta({ id: 'DisputeComment' });

export const dispute = z
  .object({
    id: z.string(),
    programId: z.string(),
    partnerId: z.string(),
    kind: disputeKind,
    commissionId: z.string().nullable(),
    payoutId: z.string().nullable(),
    missingCredit: z.object({ orderId: z.string(), customerEmail: z.string(), saleDate: z.string() }).nullable(),
    message: z.string(),
    evidenceUrls: z.array(z.string()),
    status: disputeStatus,
    dueAt: isoDateTime.describe("The brand's response deadline"),
    onDeadline: deadlinePolicy,
    escalated: z.boolean(),
    escalatedAt: isoDateTime.nullable(),
    decision: z
      .object({
        reason: z.string().nullable(),
        resolution: z.record(z.string(), z.unknown()).nullable().describe('`{kind, …}` plus the commission it produced, if any'),
        decidedBy: z.string(),
        decidedAt: isoDateTime,
      })
      .nullable(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'Dispute' });
export const disputeWithComments = dispute.extend({ comments: z.array(disputeComment) }).meta({ id: 'DisputeWithComments' });

export const commentBody = z.strictObject({ body: z.string().trim().min(1, 'is required').max(5000) });
export const decideDisputeBody = z.strictObject({
  decision: z.enum(['accepted', 'rejected']),
  reason: z.string().trim().min(1, 'is required').max(2000),
  resolution: disputeResolution.optional(),
});
export const listDisputesQuery = listQuery.extend({
  status: disputeStatus.optional(),
  programId: z.string().min(1).max(64).optional(),
  escalated: z.enum(['true', 'false']).optional().describe('Only escalated (or only not escalated) disputes'),
});
export const listPortalDisputesQuery = listQuery.extend({ status: disputeStatus.optional() });

export const disputePolicy = z.object({ programId: z.string(), responseDays: z.number().int(), onDeadline: deadlinePolicy }).meta({ id: 'DisputePolicy' });
export const disputePolicyBody = z.strictObject({
  responseDays: z.number().int().min(1).max(90).optional().describe('Days the brand has to answer (default 7)'),
  onDeadline: deadlinePolicy.optional(),
});

const tag = 'Disputes';
export const disputeEndpoints = {
  fileDispute: defineEndpoint({
    method: 'POST', path: '/api/v1/portal/disputes', operationId: 'fileDispute', tag, auth: { kind: 'user' },
    summary: 'As a partner, dispute a commission, a missing credit or a payout', body: fileDisputeBody, status: 201, response: disputeWithComments,
  }),
  listPortalDisputes: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/disputes', operationId: 'listPortalDisputes', tag, auth: { kind: 'user' },
    summary: "The signed-in partner's own disputes, newest first", query: listPortalDisputesQuery, status: 200, response: page(dispute),
  }),
  getPortalDispute: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/disputes/:id', operationId: 'getPortalDispute', tag, auth: { kind: 'user' },
    summary: 'One of the partner’s disputes with its comments', params: idParams, status: 200, response: disputeWithComments,
  }),
  commentPortalDispute: defineEndpoint({
    method: 'POST', path: '/api/v1/portal/disputes/:id/comments', operationId: 'commentPortalDispute', tag, auth: { kind: 'user' },
    summary: 'Add a partner comment', params: idParams, body: commentBody, status: 201, response: disputeComment,
  }),
  withdrawDispute: defineEndpoint({
    method: 'POST', path: '/api/v1/portal/disputes/:id/withdraw', operationId: 'withdrawDispute', tag, auth: { kind: 'user' },
    summary: 'Withdraw an undecided dispute', params: idParams, status: 200, response: dispute,
  }),
  listDisputes: defineEndpoint({
    method: 'GET', path: '/api/v1/disputes', operationId: 'listDisputes', tag, auth: { kind: 'scope', scope: 'read' },
    summary: "The workspace's disputes, newest first", query: listDisputesQuery, status: 200, response: page(dispute),
  }),
  getDispute: defineEndpoint({
    method: 'GET', path: '/api/v1/disputes/:id', operationId: 'getDispute', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'One dispute with its comments', params: idParams, status: 200, response: disputeWithComments,
  }),
  commentDispute: defineEndpoint({
    method: 'POST', path: '/api/v1/disputes/:id/comments', operationId: 'commentDispute', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Add a brand comment', params: idParams, body: commentBody, status: 201, response: disputeComment,
  }),
  reviewDispute: defineEndpoint({
    method: 'POST', path: '/api/v1/disputes/:id/review', operationId: 'reviewDispute', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Take an open dispute under review', params: idParams, status: 200, response: dispute,
  }),
  decideDispute: defineEndpoint({
    method: 'POST', path: '/api/v1/disputes/:id/decide', operationId: 'decideDispute', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Accept (with its ledger effect, in the same transaction) or reject a dispute',
    params: idParams, body: decideDisputeBody, status: 200, response: dispute,
  }),
  getDisputePolicy: defineEndpoint({
    method: 'GET', path: '/api/v1/programs/:id/dispute-policy', operationId: 'getDisputePolicy', tag, auth: { kind: 'scope', scope: 'read' },
    summary: "A program's dispute response time and deadline policy", params: idParams, status: 200, response: disputePolicy,
  }),
  updateDisputePolicy: defineEndpoint({
    method: 'PUT', path: '/api/v1/programs/:id/dispute-policy', operationId: 'updateDisputePolicy', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: "Change a program's dispute policy (applies to disputes filed afterwards)", params: idParams, body: disputePolicyBody, status: 200, response: disputePolicy,
  }),
} as const;
