import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { isoDateTime, listQuery, page } from './common.js';

export const auditEntry = z
  .object({
    id: z.string(),
    actor: z.object({
      kind: z.enum(['user', 'api_key', 'partner', 'system']).describe('Who acted: a signed-in user, an API key, a partner or a background job'),
      id: z.string().nullable(),
    }),
    action: z.string().describe('Dotted verb such as `program.rules_changed` or `api_key.revoked`'),
    target: z.object({ type: z.string(), id: z.string() }).nullable(),
    before: z.unknown().describe('State before the action (null when it created something)'),
    after: z.unknown().describe('State after the action (null when it deleted something)'),
    createdAt: isoDateTime,
  })
  .meta({ id: 'AuditEntry' });

const auditFilters = {
  action: z.string().min(1).max(100).optional().describe('Exact action, or a prefix ending in `.` (`webhook.`)'),
  actorKind: z.enum(['user', 'api_key', 'partner', 'system']).optional(),
  actorId: z.string().min(1).max(64).optional(),
  targetType: z.string().min(1).max(64).optional(),
  targetId: z.string().min(1).max(64).optional(),
  from: isoDateTime.optional().describe('Entries at or after this instant'),
  to: isoDateTime.optional().describe('Entries before this instant'),
};
export const auditQuery = listQuery.extend(auditFilters);
export const auditCsvQuery = z.strictObject(auditFilters);
export type AuditFilters = Omit<z.output<typeof auditCsvQuery>, never>;

const tag = 'Audit';
export const auditEndpoints = {
  listAudit: defineEndpoint({
    method: 'GET', path: '/api/v1/audit', operationId: 'listAudit', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'The append-only audit trail, newest first',
    description: 'Every money-, governance- and security-relevant action with who, what, when and the state before and after. There is no way to change or delete an entry.',
    query: auditQuery, status: 200, response: page(auditEntry),
  }),
  exportAuditCsv: defineEndpoint({
    method: 'GET', path: '/api/v1/audit.csv', operationId: 'exportAuditCsv', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'The audit trail as CSV (streamed, oldest first), with the same filters',
    query: auditCsvQuery, status: 200, produces: 'text/csv',
  }),
};
