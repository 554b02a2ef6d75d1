import { endpoints } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import { csvLine } from '../exports/csv.js';
import { partnerStatement, statementHtml } from './statement.js';
import { verifyLedger } from './verify.js';

export function ledgerRoutes(r: Router): void {
  r.handle(endpoints.verifyLedger, async ({ auth, services }) => verifyLedger(services.pool, auth.workspaceId));

  r.handle(endpoints.partnerStatementCsv, async ({ params, query, auth, services, reply }) => {
    const s = await partnerStatement(services.pool, auth.workspaceId, query.programId, params.id);
    let body = csvLine(['seq', 'at', 'entry', 'reference', 'pending_change', 'payable_change', 'paid_change', 'pending', 'payable', 'paid', 'currency', 'hash']);
    for (const l of s.lines) body += csvLine([l.seq, l.at, l.kind, l.ref, l.delta.pending, l.delta.payable, l.delta.paid, l.balance.pending, l.balance.payable, l.balance.paid, s.program.currency, l.hash]);
    body += csvLine(['chain_head', s.head?.chain ?? null, s.head?.seq ?? 0, s.head?.hash ?? null]);
    reply.code(200).type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="statement-${params.id.replace(/[^A-Za-z0-9_]/g, '_')}.csv"`).header('cache-control', 'no-store');
    return reply.send(body);
  });

  r.handle(endpoints.partnerStatementHtml, async ({ params, query, auth, services, reply }) => {
    const s = await partnerStatement(services.pool, auth.workspaceId, query.programId, params.id);
    reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return reply.send(statementHtml(s));
  });
}
