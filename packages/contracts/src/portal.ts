import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { email, idParams, isoDateTime, minorUnits } from './common.js';
import { password, user } from './accounts.js';
import { enrollmentStatus } from './partners.js';
import { rulesDocument } from './rules.js';

export const portalSignupBody = z.strictObject({ email, password, name: z.string().trim().min(1, 'is required').max(120) });
export const portalSignupResponse = z.object({ user, csrfToken: z.string().describe('Send as `x-csrf-token` on writes') });

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

const tag = 'Partner portal';
export const portalEndpoints = {
  portalSignup: defineEndpoint({
    method: 'POST', path: '/api/v1/portal/signup', operationId: 'portalSignup', tag, auth: { kind: 'none' },
    summary: 'Create a partner account (no workspace); enrollments under this email appear in the portal',
    body: portalSignupBody, status: 201, response: portalSignupResponse,
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
  getWelcomeKit: defineEndpoint({
    method: 'GET', path: '/api/v1/enrollments/:id/welcome-kit', operationId: 'getWelcomeKit', tag: 'Partners', auth: { kind: 'scope', scope: 'read' },
    summary: 'The welcome kit of an enrollment, as the partner sees it', params: idParams, status: 200, response: welcomeKit,
  }),
  getEnrollmentCalendar: defineEndpoint({
    method: 'GET', path: '/api/v1/enrollments/:id/calendar.ics', operationId: 'getEnrollmentCalendar', tag: 'Partners', auth: { kind: 'scope', scope: 'read' },
    summary: 'The milestone calendar of an enrollment as iCalendar', params: idParams, status: 200, produces: 'text/calendar',
  }),
} as const;
