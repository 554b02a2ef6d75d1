import { ApiError, endpoints } from '@tandem/contracts';
import type { PoolClient } from 'pg';
import { withTransaction } from '../../db/tx.js';
import { actorOf, recordAudit } from '../audit/record.js';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { csvLine } from '../exports/csv.js';
import { createPayoutBatch, markPayoutFailed, markPayoutPaid, markPayoutProcessing, PAYOUT_COLUMNS, toPayout, type PayoutRow } from './payouts.js';

export function payoutRoutes(r: Router): void {
  // Every money movement is in the audit trail, written in the transaction that makes it.
  r.handle(endpoints.createPayouts, async ({ body, auth, services }) =>
    withTransaction(services.pool, async (client) => {
      const batch = await createPayoutBatch(client, auth.workspaceId, body.programId, body.minAmount);
      await recordAudit(client, {
        workspaceId: auth.workspaceId,
        actor: actorOf(auth),
        action: 'payout.batch_created',
        target: { type: 'payout_batch', id: batch.batchId },
        after: { programId: body.programId, minAmount: body.minAmount ?? null, payouts: batch.payouts.map((p) => ({ id: p.id, partnerId: p.partnerId, amount: p.amount, currency: p.currency })) },
      });
      return batch;
    }),
  );

  r.handle(endpoints.listPayouts, async ({ query, auth, services }) => {
    const after = decodeCursor(query.cursor);
    const { rows } = await services.pool.query<PayoutRow>(
      `select ${PAYOUT_COLUMNS} from payouts where workspace_id = $1 and ($2::text is null or program_id = $2) and ($3::text is null or status = $3) and ($4::text is null or id < $4)
        order by id desc limit $5`,
      [auth.workspaceId, query.programId ?? null, query.status ?? null, after ?? null, query.limit + 1],
    );
    return pageOf(rows.map(toPayout), query.limit, (p) => p.id);
  });

  const audited = (auth: Parameters<typeof actorOf>[0] & { workspaceId: string }, action: string, after: Record<string, unknown>) => async (client: PoolClient, row: PayoutRow) => {
    await recordAudit(client, { workspaceId: auth.workspaceId, actor: actorOf(auth), action, target: { type: 'payout', id: row.id }, after: { status: row.status, amount: row.amount, currency: row.currency, ...after } });
    return row;
  };
  r.handle(endpoints.markPayoutProcessing, async ({ params, auth, services }) =>
    toPayout(await withTransaction(services.pool, async (client) => audited(auth, 'payout.processing', {})(client, await markPayoutProcessing(client, auth.workspaceId, params.id)))),
  );
  r.handle(endpoints.markPayoutPaid, async ({ params, body, auth, services }) =>
    toPayout(await withTransaction(services.pool, async (client) => audited(auth, 'payout.paid', { reference: body.reference })(client, await markPayoutPaid(client, auth.workspaceId, params.id, body.reference, services.now())))),
  );
  r.handle(endpoints.markPayoutFailed, async ({ params, body, auth, services }) =>
    toPayout(await withTransaction(services.pool, async (client) => audited(auth, 'payout.failed', { reason: body.reason })(client, await markPayoutFailed(client, auth.workspaceId, params.id, body.reason)))),
  );

  r.handle(endpoints.payoutBatchCsv, async ({ params, auth, services, reply }) => {
    const { rows: batch } = await services.pool.query('select 1 from payout_batches where workspace_id = $1 and id = $2', [auth.workspaceId, params.batchId]);
    if (batch.length === 0) throw new ApiError('not_found', 'No such payout batch');
    const { rows } = await services.pool.query<PayoutRow & { partner_name: string; partner_email: string }>(
      `select ${PAYOUT_COLUMNS.split(', ').map((c) => `p.${c}`).join(', ')}, pt.name as partner_name, pt.email as partner_email
         from payouts p join partners pt on pt.workspace_id = p.workspace_id and pt.id = p.partner_id
        where p.workspace_id = $1 and p.batch_id = $2 order by p.id`,
      [auth.workspaceId, params.batchId],
    );
    let body = csvLine(['payout_id', 'partner_id', 'partner_name', 'partner_email', 'amount', 'currency', 'status', 'reference']);
    for (const p of rows) body += csvLine([p.id, p.partner_id, p.partner_name, p.partner_email, p.amount, p.currency, p.status, p.reference]);
    reply.code(200).type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="payouts-${params.batchId.replace(/[^A-Za-z0-9_]/g, '_')}.csv"`).header('cache-control', 'no-store');
    return reply.send(body);
  });
}
