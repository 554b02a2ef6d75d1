import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { idParams } from './common.js';

export const ledgerProblem = z.object({ chain: z.string(), seq: z.number().int(), problem: z.enum(['hash_mismatch', 'broken_link', 'sequence_gap', 'unbalanced', 'head_mismatch', 'orphan_posting']) });
export const verifyResponse = z
  .object({
    ok: z.boolean(),
    entries: z.number().int(),
    head: z.string().nullable().describe('Hash of the newest entry'),
    chains: z.number().int().describe('One chain per (program, partner)'),
    problems: z.array(ledgerProblem),
  })
  .meta({ id: 'LedgerVerification' });

export const statementQuery = z.strictObject({ programId: z.string().min(1).max(64) });

const tag = 'Ledger';
export const ledgerEndpoints = {
  verifyLedger: defineEndpoint({
    method: 'GET', path: '/api/v1/ledger/verify', operationId: 'verifyLedger', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Recompute every hash chain and check every entry balances', status: 200, response: verifyResponse,
  }),
  partnerStatementCsv: defineEndpoint({
    method: 'GET', path: '/api/v1/partners/:id/statement.csv', operationId: 'partnerStatementCsv', tag, auth: { kind: 'scope', scope: 'read' },
    summary: "A partner's ledger statement in a program, ending with the chain head", params: idParams, query: statementQuery, status: 200, produces: 'text/csv',
  }),
  partnerStatementHtml: defineEndpoint({
    method: 'GET', path: '/api/v1/partners/:id/statement.html', operationId: 'partnerStatementHtml', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'The statement as a printable page (print to PDF), with the chain head', params: idParams, query: statementQuery, status: 200, produces: 'text/html',
  }),
};
