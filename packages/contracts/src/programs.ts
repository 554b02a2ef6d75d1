import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { currency, idParams, isoDateTime, listQuery, minorUnits, page } from './common.js';
import { rulesDocument } from './rules.js';

export const programStatus = z.enum(['draft', 'active', 'paused', 'closed']);
export type ProgramStatus = z.infer<typeof programStatus>;

const httpUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'https:' || u.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

/** A host name such as `shop.example.com` (a scheme or trailing slash is tolerated and stripped). */
const domainEntry = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .refine((v) => /^(https?:\/\/)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\/?$/i.test(v), 'must be a domain name such as shop.example.com');

const attributionWindowDays = z.number().int().min(1).max(365);
const attributionModel = z.enum(['last_touch', 'first_touch']);
export const attribution = z.strictObject({
  windowDays: attributionWindowDays.default(30),
  model: attributionModel.default('last_touch'),
});
/** A change to part of it: no defaults, so what is not named keeps its value (`.partial()` would still fill them in). */
const attributionChange = z.strictObject({ windowDays: attributionWindowDays.optional(), model: attributionModel.optional() });

export const approvalCriteria = z.strictObject({
  requireWebsite: z.boolean().optional().describe('The application must name a website'),
  minAudienceSize: z.number().int().min(0).optional().describe('Smallest audience size accepted'),
  categories: z.array(z.string().trim().min(1).max(64)).min(1).max(50).optional().describe('Accepted categories'),
});
export type ApprovalCriteria = z.infer<typeof approvalCriteria>;

export const approvalConfig = z
  .strictObject({
    mode: z.enum(['auto', 'manual', 'council']),
    quorum: z.number().int().min(1).max(50).optional().describe('Council: approvals needed'),
    reviewers: z.array(z.string().min(1).max(64)).max(50).optional().describe('Council: user ids of the reviewers'),
    criteria: approvalCriteria.optional().describe('Auto: what an application must meet'),
    cooldownDays: z.number().int().min(0).max(3650).optional().describe('Days after a rejection before re-applying (default 30)'),
  })
  .superRefine((a, ctx) => {
    if (a.mode !== 'council') return;
    const reviewers = a.reviewers ?? [];
    if (reviewers.length === 0) ctx.addIssue({ code: 'custom', path: ['reviewers'], message: 'a council needs at least one reviewer' });
    if (new Set(reviewers).size !== reviewers.length) ctx.addIssue({ code: 'custom', path: ['reviewers'], message: 'must not repeat a reviewer' });
    if (a.quorum === undefined) ctx.addIssue({ code: 'custom', path: ['quorum'], message: 'is required for a council' });
    else if (reviewers.length > 0 && a.quorum > reviewers.length) ctx.addIssue({ code: 'custom', path: ['quorum'], message: 'cannot exceed the number of reviewers' });
  })
  .meta({ id: 'ApprovalConfig' });
export type ApprovalConfig = z.infer<typeof approvalConfig>;

export const termsInput = z.strictObject({ text: z.string().trim().min(1, 'is required').max(100_000) });

export const program = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    currency: z.string(),
    status: programStatus,
    destinationUrl: z.string(),
    allowedDomains: z.array(z.string()),
    attribution: z.object({ windowDays: z.number().int(), model: z.enum(['last_touch', 'first_touch']) }),
    rules: rulesDocument,
    rulesVersion: z.number().int(),
    terms: z.object({ text: z.string(), version: z.number().int() }).nullable(),
    termsVersion: z.number().int(),
    termsGraceDays: z.number().int(),
    approval: approvalConfig,
    payoutThreshold: minorUnits.describe('Balance a partner must reach before a payout'),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'Program' });
export type Program = z.infer<typeof program>;

const slugInput = z
  .string()
  .trim()
  .min(2)
  .max(64)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lowercase letters, digits and single dashes');

export const createProgramBody = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(120),
  slug: slugInput.optional().describe('Globally unique; derived from the name when absent'),
  currency,
  destinationUrl: httpUrl,
  allowedDomains: z.array(domainEntry).max(50).optional(),
  attribution: attribution.optional(),
  rules: rulesDocument.optional(),
  terms: termsInput.optional(),
  approval: approvalConfig.optional(),
  status: z.enum(['draft', 'active']).optional().describe('Starts as draft unless told otherwise'),
  termsGraceDays: z.number().int().min(0).max(365).optional().describe('Days to re-accept new terms (default 14)'),
  payoutThreshold: minorUnits.min(0).optional(),
});
export type CreateProgramBody = z.infer<typeof createProgramBody>;

export const updateProgramBody = z.strictObject({
  name: z.string().trim().min(1).max(120).optional(),
  slug: slugInput.optional(),
  destinationUrl: httpUrl.optional(),
  allowedDomains: z.array(domainEntry).max(50).optional(),
  attribution: attributionChange.optional(),
  rules: rulesDocument.optional().describe('A change creates a new immutable rules version'),
  terms: termsInput.optional().describe('A change creates a new terms version partners must re-accept'),
  approval: approvalConfig.optional(),
  status: programStatus.optional().describe('draft → active ⇄ paused → closed (final)'),
  termsGraceDays: z.number().int().min(0).max(365).optional(),
  payoutThreshold: minorUnits.min(0).optional(),
});
export type UpdateProgramBody = z.infer<typeof updateProgramBody>;

export const rulesVersion = z
  .object({ version: z.number().int(), rules: rulesDocument, createdBy: z.string().nullable(), createdAt: isoDateTime })
  .meta({ id: 'RulesVersion' });
export const termsVersion = z
  .object({ version: z.number().int(), text: z.string(), createdBy: z.string().nullable(), createdAt: isoDateTime })
  .meta({ id: 'TermsVersion' });

export const programListQuery = listQuery.extend({ status: programStatus.optional() });

export const slugParams = z.strictObject({ slug: z.string().min(1).max(64) });

/** What the public application page shows about a program (no internal settings). */
export const publicProgram = z
  .object({
    name: z.string(),
    slug: z.string(),
    brand: z.string().describe('Name of the brand running the program'),
    currency: z.string(),
    status: programStatus,
    acceptingApplications: z.boolean(),
    approvalMode: z.enum(['auto', 'manual', 'council']),
    rules: rulesDocument,
    terms: z.object({ text: z.string(), version: z.number().int() }).nullable(),
  })
  .meta({ id: 'PublicProgram' });

const tag = 'Programs';
export const programEndpoints = {
  createProgram: defineEndpoint({
    method: 'POST', path: '/api/v1/programs', operationId: 'createProgram', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Create a program (rules and terms start at version 1)', body: createProgramBody, status: 201, response: program,
  }),
  listPrograms: defineEndpoint({
    method: 'GET', path: '/api/v1/programs', operationId: 'listPrograms', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Programs of the workspace, newest first', query: programListQuery, status: 200, response: page(program),
  }),
  getProgram: defineEndpoint({
    method: 'GET', path: '/api/v1/programs/:id', operationId: 'getProgram', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'One program', params: idParams, status: 200, response: program,
  }),
  updateProgram: defineEndpoint({
    method: 'PATCH', path: '/api/v1/programs/:id', operationId: 'updateProgram', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Change a program; a change of rules or terms creates a new version', params: idParams, body: updateProgramBody,
    status: 200, response: program,
  }),
  listRulesVersions: defineEndpoint({
    method: 'GET', path: '/api/v1/programs/:id/rules-versions', operationId: 'listRulesVersions', tag,
    auth: { kind: 'scope', scope: 'read' }, summary: 'Every version of the rules document, newest first', params: idParams,
    status: 200, response: z.object({ data: z.array(rulesVersion) }),
  }),
  listTermsVersions: defineEndpoint({
    method: 'GET', path: '/api/v1/programs/:id/terms-versions', operationId: 'listTermsVersions', tag,
    auth: { kind: 'scope', scope: 'read' }, summary: 'Every version of the terms, newest first', params: idParams,
    status: 200, response: z.object({ data: z.array(termsVersion) }),
  }),
  getPublicProgram: defineEndpoint({
    method: 'GET', path: '/api/v1/public/programs/:slug', operationId: 'getPublicProgram', tag, auth: { kind: 'none' },
    summary: 'What the public application page shows', params: slugParams, status: 200, response: publicProgram,
  }),
} as const;
