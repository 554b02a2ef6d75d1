import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { email, idParams, isoDateTime, listQuery, page } from './common.js';
import { slugParams } from './programs.js';

export const enrollmentStatus = z.enum(['invited', 'applied', 'approved', 'rejected', 'suspended', 'banned']);
export type EnrollmentStatus = z.infer<typeof enrollmentStatus>;

const tagList = z.array(z.string().trim().min(1).max(64)).max(50);

export const partnerSummary = z
  .object({ id: z.string(), email: z.string(), name: z.string(), tags: z.array(z.string()) })
  .meta({ id: 'PartnerSummary', description: 'The partner; `tags` are those of this enrollment' });

export const linkSummary = z.object({ id: z.string(), key: z.string(), shortUrl: z.string() }).meta({ id: 'LinkSummary' });

export const enrollment = z
  .object({
    id: z.string(),
    programId: z.string(),
    partner: z.object({ id: z.string(), email: z.string(), name: z.string(), isBrand: z.boolean().describe('Another workspace (reciprocal partnership)') }),
    status: enrollmentStatus,
    statusReason: z.string().nullable(),
    tags: z.array(z.string()),
    couponCode: z.string().nullable(),
    acceptedTermsVersion: z.number().int().nullable(),
    acceptedTermsAt: isoDateTime.nullable(),
    approvedAt: isoDateTime.nullable(),
    link: linkSummary.nullable().describe('The default link, once approved'),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'Enrollment' });
export type Enrollment = z.infer<typeof enrollment>;

export const addPartnerBody = z.strictObject({
  email,
  name: z.string().trim().min(1, 'is required').max(120),
  tags: tagList.optional(),
  status: z.enum(['approved', 'invited']).default('approved'),
  website: z.string().trim().max(2000).optional(),
  destinationUrl: z.string().trim().max(2000).optional().describe('Landing page of the default link (inside the program’s domains)'),
});
export const addedPartner = z.object({
  partner: partnerSummary,
  enrollment: z.object({ id: z.string(), status: enrollmentStatus, couponCode: z.string().nullable() }),
  link: linkSummary.nullable().describe('Null until the enrollment is approved'),
});

export const enrollmentListQuery = listQuery.extend({
  programId: z.string().min(1).max(64).optional(),
  partnerId: z.string().min(1).max(64).optional(),
  status: enrollmentStatus.optional(),
  tag: z.string().min(1).max(64).optional(),
});
export const programPartnersQuery = listQuery.extend({ status: enrollmentStatus.optional(), tag: z.string().min(1).max(64).optional() });

export const changeEnrollmentStatusBody = z.strictObject({
  status: z.enum(['approved', 'rejected', 'suspended', 'banned']).describe('approve, reject, suspend, ban, or reinstate (approved)'),
  reason: z.string().trim().min(1).max(1000).optional(),
});
export const updateEnrollmentBody = z.strictObject({ tags: tagList });

export const enrollmentEvent = z
  .object({
    id: z.string(),
    fromStatus: enrollmentStatus.nullable(),
    toStatus: enrollmentStatus,
    reason: z.string().nullable(),
    actor: z.string().describe('`usr_…`, `key_…`, `system` or `partner:ptn_…`'),
    createdAt: isoDateTime,
  })
  .meta({ id: 'EnrollmentEvent' });

export const applicationBody = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(120),
  email,
  website: z.string().trim().max(2000).optional(),
  message: z.string().trim().max(5000).optional(),
  audienceSize: z.number().int().min(0).optional().describe('Followers, subscribers or monthly visitors'),
  category: z.string().trim().min(1).max(64).optional(),
});
export const applicationStatus = z.enum(['applied', 'approved', 'rejected']);

export const applicationVote = z
  .object({ reviewerId: z.string(), decision: z.enum(['approve', 'reject']), comment: z.string().nullable(), createdAt: isoDateTime })
  .meta({ id: 'ApplicationVote' });
export const application = z
  .object({
    id: z.string(),
    programId: z.string(),
    enrollmentId: z.string(),
    partner: z.object({ id: z.string(), email: z.string(), name: z.string() }),
    status: applicationStatus,
    website: z.string().nullable(),
    message: z.string().nullable(),
    audienceSize: z.number().int().nullable(),
    category: z.string().nullable(),
    decisionReason: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: isoDateTime.nullable(),
    votes: z.array(applicationVote),
    createdAt: isoDateTime,
  })
  .meta({ id: 'Application' });
export type Application = z.infer<typeof application>;

export const applicationListQuery = listQuery.extend({ programId: z.string().min(1).max(64).optional(), status: applicationStatus.optional() });
export const voteBody = z.strictObject({ decision: z.enum(['approve', 'reject']), comment: z.string().trim().min(1).max(2000).optional() });

const tag = 'Partners';
export const partnerEndpoints = {
  addPartner: defineEndpoint({
    method: 'POST', path: '/api/v1/programs/:id/partners', operationId: 'addPartner', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Add a partner to a program (approved: default link, coupon code, terms in force accepted)',
    params: idParams, body: addPartnerBody, status: 201, response: addedPartner,
  }),
  listProgramPartners: defineEndpoint({
    method: 'GET', path: '/api/v1/programs/:id/partners', operationId: 'listProgramPartners', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Partners of a program with their enrollment', params: idParams, query: programPartnersQuery, status: 200, response: page(enrollment),
  }),
  listEnrollments: defineEndpoint({
    method: 'GET', path: '/api/v1/enrollments', operationId: 'listEnrollments', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Enrollments of the workspace, filtered by program, partner, status or tag', query: enrollmentListQuery, status: 200, response: page(enrollment),
  }),
  getEnrollment: defineEndpoint({
    method: 'GET', path: '/api/v1/enrollments/:id', operationId: 'getEnrollment', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'One enrollment', params: idParams, status: 200, response: enrollment,
  }),
  changeEnrollmentStatus: defineEndpoint({
    method: 'POST', path: '/api/v1/enrollments/:id/status', operationId: 'changeEnrollmentStatus', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Approve, reject, suspend, ban or reinstate; the transition is recorded with reason and actor',
    params: idParams, body: changeEnrollmentStatusBody, status: 200, response: enrollment,
  }),
  updateEnrollment: defineEndpoint({
    method: 'PATCH', path: '/api/v1/enrollments/:id', operationId: 'updateEnrollment', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Set the tags (segments) of an enrollment', params: idParams, body: updateEnrollmentBody, status: 200, response: enrollment,
  }),
  listEnrollmentEvents: defineEndpoint({
    method: 'GET', path: '/api/v1/enrollments/:id/events', operationId: 'listEnrollmentEvents', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Every status transition, oldest first', params: idParams, status: 200, response: z.object({ data: z.array(enrollmentEvent) }),
  }),
  applyToProgram: defineEndpoint({
    method: 'POST', path: '/api/v1/public/programs/:slug/applications', operationId: 'applyToProgram', tag: 'Applications', auth: { kind: 'none' },
    summary: 'Apply to a program (no account needed); decided per the program’s approval mode',
    description: 'Submitting accepts the terms in force, recorded with the time and a keyed hash of the IP.',
    params: slugParams, body: applicationBody, status: 201, response: z.object({ id: z.string(), status: applicationStatus }),
  }),
  listApplications: defineEndpoint({
    method: 'GET', path: '/api/v1/applications', operationId: 'listApplications', tag: 'Applications', auth: { kind: 'scope', scope: 'read' },
    summary: 'Applications with their votes', query: applicationListQuery, status: 200, response: page(application),
  }),
  getApplication: defineEndpoint({
    method: 'GET', path: '/api/v1/applications/:id', operationId: 'getApplication', tag: 'Applications', auth: { kind: 'scope', scope: 'read' },
    summary: 'One application with its votes', params: idParams, status: 200, response: application,
  }),
  voteOnApplication: defineEndpoint({
    method: 'POST', path: '/api/v1/applications/:id/votes', operationId: 'voteOnApplication', tag: 'Applications', auth: { kind: 'scope', scope: 'write' },
    summary: 'A council reviewer votes (once); quorum approves, impossible quorum rejects',
    params: idParams, body: voteBody, status: 201, response: application,
  }),
} as const;
