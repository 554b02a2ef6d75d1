import { endpoints } from '@tandem/contracts';
import QRCode from 'qrcode';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../../http/context.js';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { withTransaction } from '../../db/tx.js';
import { shortUrl } from './create-link.js';
import { bulkCreatePartnerLinks, createPartnerLink, getLinkOrThrow, listLinks, toApiLink, updateLink } from './links.js';

/** Short URLs use the configured public URL; without one, the host the caller reached us on. */
function publicUrlOf(services: Services, req: FastifyRequest): string {
  return services.config.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

export function linkRoutes(r: Router): void {
  r.handle(endpoints.createLink, async ({ body, auth, services, req }) => {
    const link = await withTransaction(services.pool, (client) => createPartnerLink(client, auth, body));
    return toApiLink(link, publicUrlOf(services, req));
  });

  r.handle(endpoints.bulkCreateLinks, async ({ body, auth, services, req }) => {
    const links = await withTransaction(services.pool, (client) => bulkCreatePartnerLinks(client, auth, body.links));
    const base = publicUrlOf(services, req);
    return { data: links.map((l) => toApiLink(l, base)) };
  });

  r.handle(endpoints.listLinks, async ({ query, auth, services, req }) => {
    const rows = await listLinks(services.pool, auth.workspaceId, {
      programId: query.programId,
      partnerId: query.partnerId,
      archived: query.archived,
      after: decodeCursor(query.cursor),
      limit: query.limit,
    });
    const base = publicUrlOf(services, req);
    return pageOf(
      rows.map((l) => toApiLink(l, base)),
      query.limit,
      (l) => l.id,
    );
  });

  r.handle(endpoints.getLink, async ({ params, auth, services, req }) => {
    return toApiLink(await getLinkOrThrow(services.pool, auth.workspaceId, params.id), publicUrlOf(services, req));
  });

  r.handle(endpoints.updateLink, async ({ params, body, auth, services, req }) => {
    const link = await withTransaction(services.pool, (client) => updateLink(client, auth, params.id, body));
    return toApiLink(link, publicUrlOf(services, req));
  });

  r.handle(endpoints.linkQrSvg, async ({ params, query, auth, services, req, reply }) => {
    const link = await getLinkOrThrow(services.pool, auth.workspaceId, params.id);
    const svg = await QRCode.toString(shortUrl(publicUrlOf(services, req), link.key), {
      type: 'svg',
      width: query.size,
      margin: 2,
      errorCorrectionLevel: 'M',
    });
    return reply.code(200).type('image/svg+xml').header('cache-control', 'private, max-age=3600').send(svg);
  });

  r.handle(endpoints.linkQrPng, async ({ params, query, auth, services, req, reply }) => {
    const link = await getLinkOrThrow(services.pool, auth.workspaceId, params.id);
    const png = await QRCode.toBuffer(shortUrl(publicUrlOf(services, req), link.key), {
      type: 'png',
      width: query.size,
      margin: 2,
      errorCorrectionLevel: 'M',
    });
    return reply.code(200).type('image/png').header('cache-control', 'private, max-age=3600').send(png);
  });
}
