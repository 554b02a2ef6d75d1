import { endpoints } from '@tandem/contracts';
import { withTransaction } from '../../db/tx.js';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { actorOf } from '../audit/record.js';
import { publicBaseUrl } from '../partners/enrollments.js';
import { partnershipBalance } from './balance.js';
import { createShareLink, listShareLinks, revokeShareLink, sharedDashboard } from './share-links.js';
import { listSettlements, settlePartnership } from './settlements.js';
import { acceptPartnership, addMember, createPartnership, declinePartnership, listPartnershipIds, loadPartnership } from './partnerships.js';

export function partnershipRoutes(r: Router): void {
  r.handle(endpoints.createPartnership, async ({ body, auth, services }) => {
    const id = await withTransaction(services.pool, (client) =>
      createPartnership(client, { workspaceId: auth.workspaceId, actor: actorOf(auth), invitee: body, programId: body.programId, message: body.message, agreement: body.agreement, now: services.now() }),
    );
    return loadPartnership(services.pool, auth.workspaceId, id);
  });

  r.handle(endpoints.listPartnerships, async ({ query, auth, services }) => {
    const ids = await listPartnershipIds(services.pool, auth.workspaceId, decodeCursor(query.cursor), query.limit);
    const items = await Promise.all(ids.map((id) => loadPartnership(services.pool, auth.workspaceId, id)));
    return pageOf(items, query.limit, (p) => p.id);
  });

  r.handle(endpoints.getPartnership, async ({ params, auth, services }) => loadPartnership(services.pool, auth.workspaceId, params.id));

  r.handle(endpoints.acceptPartnership, async ({ params, body, auth, services }) => {
    await withTransaction(services.pool, (client) => acceptPartnership(client, { workspaceId: auth.workspaceId, partnershipId: params.id, programId: body.programId, actor: actorOf(auth), now: services.now() }));
    return loadPartnership(services.pool, auth.workspaceId, params.id);
  });

  r.handle(endpoints.declinePartnership, async ({ params, auth, services }) => {
    await withTransaction(services.pool, (client) => declinePartnership(client, { workspaceId: auth.workspaceId, partnershipId: params.id, actor: actorOf(auth) }));
    return loadPartnership(services.pool, auth.workspaceId, params.id);
  });

  r.handle(endpoints.addPartnershipMember, async ({ params, body, auth, services }) => {
    await withTransaction(services.pool, (client) => addMember(client, { workspaceId: auth.workspaceId, partnershipId: params.id, invitee: body, actor: actorOf(auth), now: services.now() }));
    return loadPartnership(services.pool, auth.workspaceId, params.id);
  });

  r.handle(endpoints.getPartnershipBalance, async ({ params, auth, services }) => partnershipBalance(services.pool, auth.workspaceId, params.id));

  r.handle(endpoints.settlePartnership, async ({ params, body, auth, services }) =>
    withTransaction(services.pool, (client) =>
      settlePartnership(client, { workspaceId: auth.workspaceId, partnershipId: params.id, currency: body.currency, counterpartyWorkspaceId: body.counterpartyWorkspaceId, actor: actorOf(auth), now: services.now() }),
    ),
  );

  r.handle(endpoints.listPartnershipSettlements, async ({ params, query, auth, services }) =>
    pageOf(await listSettlements(services.pool, auth.workspaceId, params.id, decodeCursor(query.cursor), query.limit), query.limit, (s) => s.id),
  );

  r.handle(endpoints.createPartnershipShareLink, async ({ params, body, auth, services, req }) => {
    const link = await withTransaction(services.pool, (client) =>
      createShareLink(client, { workspaceId: auth.workspaceId, partnershipId: params.id, expiresInDays: body.expiresInDays, actor: actorOf(auth), now: services.now() }),
    );
    return { id: link.id, token: link.token, url: `${publicBaseUrl(services, req)}/share/${link.token}`, expiresAt: link.expiresAt.toISOString() };
  });

  r.handle(endpoints.listPartnershipShareLinks, async ({ params, auth, services }) => ({ data: await listShareLinks(services.pool, auth.workspaceId, params.id) }));

  r.handle(endpoints.revokePartnershipShareLink, async ({ params, auth, services, reply }) => {
    await withTransaction(services.pool, (client) => revokeShareLink(client, { workspaceId: auth.workspaceId, partnershipId: params.id, linkId: params.linkId, actor: actorOf(auth), now: services.now() }));
    return reply.code(204).send();
  });

  r.handle(endpoints.getSharedPartnershipDashboard, async ({ params, services, reply }) => {
    // Figures change as conversions arrive, and the token is a credential: never cache.
    reply.header('cache-control', 'no-store');
    return sharedDashboard(services.pool, params.token, services.now());
  });
}
