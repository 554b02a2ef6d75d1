import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { currency, email, idParams, isoDateTime, listQuery, minorUnits, page } from './common.js';

export const agreement = z
  .strictObject({
    targeting: z.string().trim().max(2000).optional().describe('Who each brand promotes the other to'),
    messagingGuidelines: z.string().trim().max(5000).optional(),
    metrics: z.array(z.string().trim().min(1).max(120)).max(20).optional().describe('What the members measure'),
    reciprocityTargetPct: z.number().min(0).max(100).optional().describe('Traffic both ways balanced within ± this percentage'),
  })
  .meta({ id: 'PartnershipAgreement' });

/** Who to invite: a brand's workspace slug, or the email of a person owning a workspace. */
const invitee = {
  inviteWorkspaceSlug: z.string().trim().min(1).max(64).optional(),
  inviteEmail: email.optional(),
};
const oneInvitee = (v: { inviteWorkspaceSlug?: string | undefined; inviteEmail?: string | undefined }, ctx: z.RefinementCtx) => {
  if ((v.inviteWorkspaceSlug === undefined) === (v.inviteEmail === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['inviteWorkspaceSlug'], message: 'give exactly one of inviteWorkspaceSlug or inviteEmail' });
  }
};

export const createPartnershipBody = z
  .strictObject({
    ...invitee,
    programId: z.string().min(1).max(64).describe('Your program, in which the invited brand becomes a partner'),
    message: z.string().trim().max(5000).optional(),
    agreement: agreement.optional(),
  })
  .superRefine(oneInvitee);
export const addPartnershipMemberBody = z.strictObject(invitee).superRefine(oneInvitee);
export const acceptPartnershipBody = z.strictObject({ programId: z.string().min(1).max(64).describe('Your program, in which the other members become partners') });

export const partnershipMember = z
  .object({
    workspaceId: z.string(),
    name: z.string(),
    slug: z.string(),
    status: z.enum(['invited', 'active', 'declined']),
    program: z.object({ id: z.string(), name: z.string(), currency: z.string() }).nullable(),
    invitedAt: isoDateTime,
    joinedAt: isoDateTime.nullable(),
  })
  .meta({ id: 'PartnershipMember' });

export const partnership = z
  .object({
    id: z.string(),
    status: z.enum(['invited', 'active']).describe('Active once two members have joined'),
    kind: z.enum(['pair', 'coalition']),
    message: z.string().nullable(),
    agreement,
    createdByWorkspaceId: z.string(),
    members: z.array(partnershipMember),
    createdAt: isoDateTime,
  })
  .meta({ id: 'Partnership' });
export type Partnership = z.infer<typeof partnership>;

export const balanceDirection = z
  .object({
    fromWorkspaceId: z.string().describe('The brand acting as partner'),
    toWorkspaceId: z.string().describe('The brand whose program it promotes'),
    clicks: z.number().int(),
    referrals: z.number().int(),
    revenue: minorUnits,
    commissions: minorUnits.describe('Earned from `toWorkspaceId` by `fromWorkspaceId`, net of reversals (lifetime)'),
    outstanding: minorUnits.describe('What `toWorkspaceId` still owes `fromWorkspaceId`: earned but neither paid nor settled by netting'),
    currency: z.string(),
  })
  .meta({ id: 'BalanceDirection' });
export const netAmount = z
  .object({ owedByWorkspaceId: z.string().nullable(), owedToWorkspaceId: z.string().nullable(), amount: minorUnits, currency: z.string() })
  .meta({ id: 'NetAmount' });
export const partnershipBalance = z
  .object({
    partnershipId: z.string(),
    directions: z.array(balanceDirection),
    net: netAmount.describe('For a pair: who owes whom after netting what is outstanding each way; for a coalition, the first pair (see `nets`)'),
    nets: z.array(netAmount).describe('One per pair of members and currency'),
    reciprocity: z.array(z.object({ workspaceIds: z.array(z.string()), imbalancePct: z.number(), withinTarget: z.boolean().nullable() })),
  })
  .meta({ id: 'PartnershipBalance' });

export const createShareLinkBody = z.strictObject({
  expiresInDays: z.number().int().min(1).max(365).default(30).describe('The link stops working after this many days'),
});
export const shareLink = z
  .object({ id: z.string(), expiresAt: isoDateTime, revokedAt: isoDateTime.nullable(), createdAt: isoDateTime })
  .meta({ id: 'PartnershipShareLink' });
export const createdShareLink = z
  .object({
    id: z.string(),
    token: z.string().describe('Shown once; only its hash is stored'),
    url: z.string().describe('The public page of the shared dashboard'),
    expiresAt: isoDateTime,
  })
  .meta({ id: 'CreatedPartnershipShareLink' });
export const shareLinkParams = z.strictObject({ id: z.string().min(1).max(64), linkId: z.string().min(1).max(64) });
export const shareTokenParams = z.strictObject({ token: z.string().min(1).max(128) });

export const dashboardPoint = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), clicks: z.number().int(), sales: z.number().int(), revenue: minorUnits });
export const sharedPartnershipDashboard = z
  .object({
    partnershipId: z.string(),
    members: z.array(z.object({ workspaceId: z.string(), name: z.string() })).describe('Active member brands'),
    directions: z.array(balanceDirection),
    net: netAmount,
    nets: z.array(netAmount),
    series: z
      .array(z.object({ fromWorkspaceId: z.string(), toWorkspaceId: z.string(), currency: z.string(), points: z.array(dashboardPoint) }))
      .describe('One daily series per direction over the last 30 UTC days, from the rollups'),
    expiresAt: isoDateTime,
  })
  .meta({ id: 'SharedPartnershipDashboard' });

export const settlePartnershipBody = z.strictObject({
  currency: currency.optional().describe('Settle only pairs whose programs are in this currency'),
  counterpartyWorkspaceId: z.string().min(1).max(64).optional().describe('Settle only with this member brand; default: every other active member'),
});
export const partnershipSettlement = z
  .object({
    id: z.string(),
    partnershipId: z.string(),
    currency,
    gross: z
      .array(z.object({ owedByWorkspaceId: z.string(), owedToWorkspaceId: z.string(), amount: minorUnits }))
      .describe("What each brand's program owed the other brand as payable commissions when settling"),
    offset: minorUnits.describe('Settled on both sides without cash: the smaller gross amount'),
    net: z
      .object({
        owedByWorkspaceId: z.string().nullable(),
        owedToWorkspaceId: z.string().nullable(),
        amount: minorUnits,
        payoutId: z.string().nullable().describe('The first of `payoutIds` (null when there is none), for clients that read one'),
        payoutIds: z
          .array(z.string())
          .describe("The pending payouts of the difference, in the paying brand's workspace: one per partner row the paying brand has in the other's program with something left to pay (usually one), in the order they were made"),
      })
      .describe('The difference left after the offset; null brands and no payout when the sides were even'),
    settledByWorkspaceId: z.string(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'PartnershipSettlement' });
export type PartnershipSettlement = z.infer<typeof partnershipSettlement>;
export const settlePartnershipResponse = z.object({
  data: z.array(partnershipSettlement).describe('One settlement per pair of brands that had something to net'),
  skipped: z
    .array(z.object({ counterpartyWorkspaceId: z.string(), reason: z.enum(['currency_mismatch', 'nothing_owed']) }))
    .describe('Pairs left alone: programs in different currencies never net; nothing payable either way'),
});

const tag = 'Partnerships';
export const partnershipEndpoints = {
  createPartnership: defineEndpoint({
    method: 'POST', path: '/api/v1/partnerships', operationId: 'createPartnership', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Invite another brand (by workspace slug or owner email) to a reciprocal partnership',
    body: createPartnershipBody, status: 201, response: partnership,
  }),
  listPartnerships: defineEndpoint({
    method: 'GET', path: '/api/v1/partnerships', operationId: 'listPartnerships', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Partnerships the workspace is a member of (or invited to)', query: listQuery, status: 200, response: page(partnership),
  }),
  getPartnership: defineEndpoint({
    method: 'GET', path: '/api/v1/partnerships/:id', operationId: 'getPartnership', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'One partnership', params: idParams, status: 200, response: partnership,
  }),
  acceptPartnership: defineEndpoint({
    method: 'POST', path: '/api/v1/partnerships/:id/accept', operationId: 'acceptPartnership', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Join: every member becomes an approved partner in every other member’s program',
    params: idParams, body: acceptPartnershipBody, status: 200, response: partnership,
  }),
  declinePartnership: defineEndpoint({
    method: 'POST', path: '/api/v1/partnerships/:id/decline', operationId: 'declinePartnership', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Decline an invitation', params: idParams, status: 200, response: partnership,
  }),
  addPartnershipMember: defineEndpoint({
    method: 'POST', path: '/api/v1/partnerships/:id/members', operationId: 'addPartnershipMember', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Invite one more brand (a coalition)', params: idParams, body: addPartnershipMemberBody, status: 201, response: partnership,
  }),
  getPartnershipBalance: defineEndpoint({
    method: 'GET', path: '/api/v1/partnerships/:id/balance', operationId: 'getPartnershipBalance', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Clicks, referrals, revenue and commissions each way, and the netted amount owed',
    params: idParams, status: 200, response: partnershipBalance,
  }),
  createPartnershipShareLink: defineEndpoint({
    method: 'POST', path: '/api/v1/partnerships/:id/share-links', operationId: 'createPartnershipShareLink', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'A read-only public link to the shared dashboard (balance both ways and a daily series); the token is shown once',
    params: idParams, body: createShareLinkBody, status: 201, response: createdShareLink,
  }),
  listPartnershipShareLinks: defineEndpoint({
    method: 'GET', path: '/api/v1/partnerships/:id/share-links', operationId: 'listPartnershipShareLinks', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'The share links this workspace made for the partnership (tokens are never shown again)',
    params: idParams, status: 200, response: z.object({ data: z.array(shareLink) }),
  }),
  revokePartnershipShareLink: defineEndpoint({
    method: 'DELETE', path: '/api/v1/partnerships/:id/share-links/:linkId', operationId: 'revokePartnershipShareLink', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Revoke a share link: its page stops working at once', params: shareLinkParams, status: 204,
  }),
  getSharedPartnershipDashboard: defineEndpoint({
    method: 'GET', path: '/api/v1/public/partnership-dashboards/:token', operationId: 'getSharedPartnershipDashboard', tag, auth: { kind: 'none' },
    summary: 'The shared dashboard behind a share link: balance both ways, net, and a daily series — nothing else',
    params: shareTokenParams, status: 200, response: sharedPartnershipDashboard,
  }),
  settlePartnership: defineEndpoint({
    method: 'POST', path: '/api/v1/partnerships/:id/settlements', operationId: 'settlePartnership', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Settle by netting: per pair of brands and currency, offset what each owes the other and leave one payout of the difference',
    params: idParams, body: settlePartnershipBody, status: 200, response: settlePartnershipResponse,
  }),
  listPartnershipSettlements: defineEndpoint({
    method: 'GET', path: '/api/v1/partnerships/:id/settlements', operationId: 'listPartnershipSettlements', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Settlements this brand took part in, newest first', params: idParams, query: listQuery, status: 200, response: page(partnershipSettlement),
  }),
} as const;
