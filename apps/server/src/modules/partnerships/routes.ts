import { endpoints } from '@tandem/contracts';
import { withTransaction } from '../../db/tx.js';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { actorOf } from '../audit/record.js';
import { partnershipBalance } from './balance.js';
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
}
