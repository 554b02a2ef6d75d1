import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { email, idParams, isoDateTime, listQuery, minorUnits, page } from './common.js';
import { commissionKind, commissionStatus } from './commissions.js';
import { ledgerProblem } from './ledger.js';
import { password, user } from './accounts.js';
import { enrollmentStatus } from './partners.js';
import { rulesDocument } from './rules.js';

export const portalSignupBody = z.strictObject({ email, password, name: z.string().trim().min(1, 'is required').max(120) });
export const portalSignupResponse = z.object({ user, csrfToken: z.string().describe('Send as `x-csrf-token` on writes') });

export const portalEmailStatus = z
  .object({
    email: z.string(),
    emailVerified: z.boolean().describe('Until the address is verified, no brand’s partner rows appear in the portal'),
    emailVerifiedAt: isoDateTime.nullable(),
  })
  .meta({ id: 'PortalEmailStatus' });
export const verifyPortalEmailBody = z.strictObject({ token: z.string().trim().min(16, 'is not a verification token').max(200).describe('The `token` of the mailed link') });

export const portalLink = z
  .object({ id: z.string(), key: z.string(), shortUrl: z.string(), destinationUrl: z.string(), isDefault: z.boolean() })
  .meta({ id: 'PortalLink' });

export const termsStatus = z
  .object({
    currentVersion: z.number().int().describe('0 when the program has no terms'),
    acceptedVersion: z.number().int().nullable(),
    acceptedAt: isoDateTime.nullable(),
    needsAcceptance: z.boolean().describe('A newer version waits for the partner’s acceptance'),
    graceEndsAt: isoDateTime.nullable().describe('Until then commissions keep earning under the accepted version'),
    earningUnderVersion: z.number().int().nullable().describe('The version a commission made now is made under; null: paused'),
  })
  .meta({ id: 'TermsStatus' });

export const portalEnrollment = z
  .object({
    id: z.string(),
    program: z.object({ id: z.string(), name: z.string(), slug: z.string(), currency: z.string() }),
    brand: z.object({ workspaceId: z.string(), name: z.string() }),
    status: enrollmentStatus,
    statusReason: z.string().nullable(),
    couponCode: z.string().nullable(),
    links: z.array(portalLink),
    terms: termsStatus,
  })
  .meta({ id: 'PortalEnrollment' });
export type PortalEnrollment = z.infer<typeof portalEnrollment>;

export const milestone = z
  .object({
    id: z.string().describe('Stable per enrollment: `first-link-shared`, `first-referral`, `first-payout-threshold`, `quarterly-review-2026-q3`'),
    kind: z.enum(['first_link_shared', 'first_referral', 'first_payout_threshold', 'quarterly_review']),
    title: z.string(),
    description: z.string(),
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe('Target day (all-day event)'),
    achievedAt: isoDateTime.nullable(),
  })
  .meta({ id: 'Milestone' });

export const welcomeKit = z
  .object({
    enrollmentId: z.string(),
    partner: z.object({ id: z.string(), name: z.string(), email: z.string() }),
    program: z.object({
      id: z.string(),
      name: z.string(),
      brand: z.string(),
      currency: z.string(),
      destinationUrl: z.string(),
      attributionWindowDays: z.number().int(),
      rules: rulesDocument,
      payoutThreshold: minorUnits,
    }),
    status: enrollmentStatus,
    couponCode: z.string().nullable(),
    links: z.array(portalLink),
    terms: z.object({ version: z.number().int(), text: z.string() }).nullable(),
    assets: z.array(z.object({ name: z.string(), url: z.string() })).describe('Brand assets (empty until the asset library exists)'),
    milestones: z.array(milestone),
  })
  .meta({ id: 'WelcomeKit' });
export type WelcomeKit = z.infer<typeof welcomeKit>;

export const portalBalance = z
  .object({ currency: z.string(), pending: minorUnits, payable: minorUnits, paid: minorUnits })
  .meta({ id: 'PortalBalance' });

/** A commission as its partner sees it: no customer or sale identifiers (the brand's customers' data). */
export const portalCommission = z
  .object({
    id: z.string(),
    kind: commissionKind,
    amount: minorUnits.describe('As computed; negative for clawbacks'),
    reversedAmount: minorUnits,
    clawedBack: minorUnits,
    currency: z.string(),
    status: commissionStatus,
    occurredAt: isoDateTime,
    payableAt: isoDateTime,
    reason: z.string().nullable(),
  })
  .meta({ id: 'PortalCommission' });

export const earningsInterval = z.enum(['day', 'week', 'month']);
export const earningsQuery = z.strictObject({ interval: earningsInterval.default('day').describe('Bucket size (weeks start on Monday, UTC)') });
export const earningsPoint = z
  .object({
    period: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe('First day of the bucket (UTC)'),
    pending: minorUnits.describe('Balance at the end of the bucket'),
    payable: minorUnits,
    paid: minorUnits,
  })
  .meta({ id: 'EarningsPoint' });
export const portalEarnings = z
  .object({ currency: z.string(), interval: earningsInterval, points: z.array(earningsPoint).describe('From the first ledger entry to today, at most 400 buckets (the newest)') })
  .meta({ id: 'PortalEarnings' });

const bucketAmounts = z.object({ pending: minorUnits, payable: minorUnits, paid: minorUnits });
export const chainHead = z
  .object({ chain: z.string(), seq: z.number().int(), hash: z.string() })
  .meta({ id: 'ChainHead' });
export const portalStatement = z
  .object({
    program: z.object({ id: z.string(), name: z.string(), currency: z.string() }),
    lines: z.array(z.object({ seq: z.number().int(), at: isoDateTime, kind: z.string(), ref: z.string().nullable(), delta: bucketAmounts, balance: bucketAmounts, hash: z.string() })),
    head: chainHead.nullable().describe('The newest entry of the partner’s chain: keep its hash to verify later'),
  })
  .meta({ id: 'PortalStatement' });

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-character hex hash from a statement');
export const verifyStatementBody = z.strictObject({ hash: sha256Hex.optional().describe('A head hash printed on an earlier statement') });
export const statementVerification = z
  .object({
    ok: z.boolean().describe('The chain recomputes, and the given hash (if any) is one of its entries'),
    entries: z.number().int(),
    head: chainHead.nullable(),
    problems: z.array(ledgerProblem),
    checkedHash: z.object({ hash: z.string(), foundAtSeq: z.number().int().nullable() }).nullable(),
  })
  .meta({ id: 'StatementVerification' });

const tag = 'Partner portal';
export const portalEndpoints = {
  portalSignup: defineEndpoint({
    method: 'POST', path: '/api/v1/portal/signup', operationId: 'portalSignup', tag, auth: { kind: 'none' },
    summary: 'Create a partner account (no workspace) and mail a verification link; enrollments under this email appear once it is verified',
    body: portalSignupBody, status: 201, response: portalSignupResponse,
  }),
  getPortalEmailStatus: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/email', operationId: 'getPortalEmailStatus', tag, auth: { kind: 'user' },
    summary: 'The signed-in user’s email address and whether it is verified', status: 200, response: portalEmailStatus,
  }),
  verifyPortalEmail: defineEndpoint({
    method: 'POST', path: '/api/v1/portal/email/verify', operationId: 'verifyPortalEmail', tag, auth: { kind: 'user' },
    summary: 'Redeem the mailed verification token (once, within 24 hours, as the user it was sent to); brands’ partner rows under the address then appear',
    body: verifyPortalEmailBody, status: 200, response: portalEmailStatus,
  }),
  resendPortalEmailVerification: defineEndpoint({
    method: 'POST', path: '/api/v1/portal/email/resend', operationId: 'resendPortalEmailVerification', tag, auth: { kind: 'user' },
    summary: 'Mail a new verification link (at most one a minute and five a day)', status: 202, response: portalEmailStatus,
  }),
  listPortalEnrollments: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/enrollments', operationId: 'listPortalEnrollments', tag, auth: { kind: 'user' },
    summary: 'The signed-in partner’s enrollments across every brand', status: 200, response: z.object({ data: z.array(portalEnrollment) }),
  }),
  acceptPortalTerms: defineEndpoint({
    method: 'POST', path: '/api/v1/portal/enrollments/:id/accept-terms', operationId: 'acceptPortalTerms', tag, auth: { kind: 'user' },
    summary: 'Accept the terms version in force (time and a keyed hash of the IP recorded); lifts a terms pause',
    params: idParams, status: 200, response: portalEnrollment,
  }),
  getPortalWelcomeKit: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/enrollments/:id/welcome-kit', operationId: 'getPortalWelcomeKit', tag, auth: { kind: 'user' },
    summary: 'Program summary, links, coupon code, terms, assets and milestones', params: idParams, status: 200, response: welcomeKit,
  }),
  getPortalMilestones: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/enrollments/:id/milestones', operationId: 'getPortalMilestones', tag, auth: { kind: 'user' },
    summary: 'The milestone calendar as JSON', params: idParams, status: 200, response: z.object({ data: z.array(milestone) }),
  }),
  getPortalCalendar: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/enrollments/:id/calendar.ics', operationId: 'getPortalCalendar', tag, auth: { kind: 'user' },
    summary: 'The milestone calendar as iCalendar (RFC 5545)', params: idParams, status: 200, produces: 'text/calendar',
  }),
  getPortalBalance: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/enrollments/:id/balance', operationId: 'getPortalBalance', tag, auth: { kind: 'user' },
    summary: 'The partner’s pending, payable and paid amounts in the program, summed from its ledger', params: idParams, status: 200, response: portalBalance,
  }),
  listPortalCommissions: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/enrollments/:id/commissions', operationId: 'listPortalCommissions', tag, auth: { kind: 'user' },
    summary: 'The partner’s own commissions in the program, newest first (no customer data)', params: idParams, query: listQuery, status: 200, response: page(portalCommission),
  }),
  getPortalEarnings: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/enrollments/:id/earnings', operationId: 'getPortalEarnings', tag, auth: { kind: 'user' },
    summary: 'Pending, payable and paid balances over time', params: idParams, query: earningsQuery, status: 200, response: portalEarnings,
  }),
  getPortalStatement: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/enrollments/:id/statement', operationId: 'getPortalStatement', tag, auth: { kind: 'user' },
    summary: 'The partner’s ledger chain with running balances and its head', params: idParams, status: 200, response: portalStatement,
  }),
  getPortalStatementCsv: defineEndpoint({
    method: 'GET', path: '/api/v1/portal/enrollments/:id/statement.csv', operationId: 'getPortalStatementCsv', tag, auth: { kind: 'user' },
    summary: 'The statement as CSV, ending with the chain head', params: idParams, status: 200, produces: 'text/csv',
  }),
  verifyPortalStatement: defineEndpoint({
    method: 'POST', path: '/api/v1/portal/enrollments/:id/statement/verify', operationId: 'verifyPortalStatement', tag, auth: { kind: 'user' },
    summary: 'Recompute the partner’s chain; with `hash`, also check that an earlier statement’s head is still in it',
    params: idParams, body: verifyStatementBody, status: 200, response: statementVerification,
  }),
  getWelcomeKit: defineEndpoint({
    method: 'GET', path: '/api/v1/enrollments/:id/welcome-kit', operationId: 'getWelcomeKit', tag: 'Partners', auth: { kind: 'scope', scope: 'read' },
    summary: 'The welcome kit of an enrollment, as the partner sees it', params: idParams, status: 200, response: welcomeKit,
  }),
  getEnrollmentCalendar: defineEndpoint({
    method: 'GET', path: '/api/v1/enrollments/:id/calendar.ics', operationId: 'getEnrollmentCalendar', tag: 'Partners', auth: { kind: 'scope', scope: 'read' },
    summary: 'The milestone calendar of an enrollment as iCalendar', params: idParams, status: 200, produces: 'text/calendar',
  }),
} as const;
