import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { idParams, isoDateTime, listQuery, page, prefixedId } from './common.js';

/** UTM tags added to a link's destination (`source` → `utm_source`, …). */
export const utmTags = z
  .strictObject({
    source: z.string().trim().min(1).max(200).optional(),
    medium: z.string().trim().min(1).max(200).optional(),
    campaign: z.string().trim().min(1).max(200).optional(),
    term: z.string().trim().min(1).max(200).optional(),
    content: z.string().trim().min(1).max(200).optional(),
  })
  .meta({ id: 'UtmTags' });
export type UtmTags = z.infer<typeof utmTags>;

export const link = z
  .object({
    id: z.string(),
    key: z.string().describe('The short key: the link is `/r/<key>`'),
    shortUrl: z.string().describe('The public short URL to share'),
    destinationUrl: z.string().describe('Where visitors go (UTM tags already applied)'),
    programId: z.string(),
    partnerId: z.string(),
    utm: utmTags.nullable(),
    isDefault: z.boolean().describe("The partner's default link in this program"),
    archived: z.boolean().describe('Archived links answer 404 and record no clicks'),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: 'Link' });
export type Link = z.infer<typeof link>;

const linkKey = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/, '3–64 letters, digits, - or _, starting with a letter or digit')
  .describe('A custom key; random (7 characters of an unambiguous alphabet) when omitted');
const destinationUrl = z
  .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
  .max(2000)
  .describe("Inside the program's destination host or allowed domains; the program's destination when omitted");

export const createLinkBody = z.strictObject({
  programId: prefixedId('prg'),
  partnerId: prefixedId('ptn'),
  key: linkKey.optional(),
  destinationUrl: destinationUrl.optional(),
  utm: utmTags.optional(),
});
export type CreateLinkBody = z.infer<typeof createLinkBody>;

export const MAX_BULK_LINKS = 500;
export const bulkCreateLinksBody = z.strictObject({
  links: z.array(createLinkBody).min(1, 'needs at least one link').max(MAX_BULK_LINKS, `at most ${MAX_BULK_LINKS} links per call`),
});

export const listLinksQuery = listQuery.extend({
  programId: prefixedId('prg').optional(),
  partnerId: prefixedId('ptn').optional(),
  archived: z.enum(['true', 'false']).default('false').transform((v) => v === 'true').describe('List archived links instead of active ones'),
});

export const updateLinkBody = z
  .strictObject({
    destinationUrl: destinationUrl.optional(),
    archived: z.boolean().optional().describe('Archive (true) or restore (false) the link'),
  })
  .refine((b) => b.destinationUrl !== undefined || b.archived !== undefined, { message: 'nothing to change', path: ['(body)'] });

export const qrQuery = z.strictObject({
  size: z.coerce.number().int().min(64).max(2048).default(512).describe('Width in pixels (PNG) or of the SVG viewport'),
});

const tag = 'Links';
export const linkEndpoints = {
  createLink: defineEndpoint({
    method: 'POST', path: '/api/v1/links', operationId: 'createLink', tag, auth: { kind: 'scope', scope: 'write' },
    summary: "Create a short link for an approved partner of a program (destination inside the program's domains)",
    body: createLinkBody, status: 201, response: link,
  }),
  bulkCreateLinks: defineEndpoint({
    method: 'POST', path: '/api/v1/links/bulk', operationId: 'bulkCreateLinks', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Create up to 500 links at once: all or nothing, errors named `links.<i>.<field>`',
    body: bulkCreateLinksBody, status: 201, response: z.object({ data: z.array(link) }),
  }),
  listLinks: defineEndpoint({
    method: 'GET', path: '/api/v1/links', operationId: 'listLinks', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Links of the workspace, newest first, by program and partner', query: listLinksQuery, status: 200,
    response: page(link),
  }),
  getLink: defineEndpoint({
    method: 'GET', path: '/api/v1/links/:id', operationId: 'getLink', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'One link', params: idParams, status: 200, response: link,
  }),
  updateLink: defineEndpoint({
    method: 'PATCH', path: '/api/v1/links/:id', operationId: 'updateLink', tag, auth: { kind: 'scope', scope: 'write' },
    summary: 'Change the destination or archive/restore a link (the redirect follows at once, on every node)',
    params: idParams, body: updateLinkBody, status: 200, response: link,
  }),
  linkQrSvg: defineEndpoint({
    method: 'GET', path: '/api/v1/links/:id/qr.svg', operationId: 'linkQrSvg', tag, auth: { kind: 'scope', scope: 'read' },
    summary: "QR code of the link's short URL (SVG)", params: idParams, query: qrQuery, status: 200,
    response: z.string(), produces: 'image/svg+xml',
  }),
  linkQrPng: defineEndpoint({
    method: 'GET', path: '/api/v1/links/:id/qr.png', operationId: 'linkQrPng', tag, auth: { kind: 'scope', scope: 'read' },
    summary: "QR code of the link's short URL (PNG)", params: idParams, query: qrQuery, status: 200,
    response: z.string(), produces: 'image/png',
  }),
} as const;
