import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { isoDateTime, listQuery, page } from './common.js';

/*
 * CSV downloads. Each is streamed from the database in keyset batches (a million rows never sit
 * in memory), oldest first, with a header row; amounts are integer minor units.
 */
const id = z.string().min(1).max(64);

export const partnersCsvQuery = z.strictObject({ programId: id.optional().describe('Only partners enrolled in this program') });
export const commissionsCsvQuery = z.strictObject({
  programId: id.optional(),
  partnerId: id.optional(),
  status: z.enum(['pending', 'held', 'payable', 'paid', 'reversed']).optional(),
});
export const payoutsCsvQuery = z.strictObject({
  programId: id.optional(),
  status: z.enum(['pending', 'processing', 'paid', 'failed']).optional(),
});

const tag = 'Exports';
export const exportEndpoints = {
  exportPartnersCsv: defineEndpoint({
    method: 'GET', path: '/api/v1/partners.csv', operationId: 'exportPartnersCsv', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Partners with their enrollments (one row per partner and program) as CSV',
    query: partnersCsvQuery, status: 200, produces: 'text/csv',
  }),
  exportCommissionsCsv: defineEndpoint({
    method: 'GET', path: '/api/v1/commissions.csv', operationId: 'exportCommissionsCsv', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Commissions as CSV', query: commissionsCsvQuery, status: 200, produces: 'text/csv',
  }),
  exportPayoutsCsv: defineEndpoint({
    method: 'GET', path: '/api/v1/payouts.csv', operationId: 'exportPayoutsCsv', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Payouts as CSV', query: payoutsCsvQuery, status: 200, produces: 'text/csv',
  }),
};

const flag = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

export const importPartnersParams = z.strictObject({ id: id.describe('Program id') });
export const importQuery = z.strictObject({
  dryRun: flag.describe('Check every row and report, write nothing'),
  skipBadRows: flag.describe('Import the good rows even when some fail (default: any failure writes nothing)'),
});

export const importReport = z
  .object({
    dryRun: z.boolean(),
    skipBadRows: z.boolean(),
    committed: z.boolean().describe('Whether anything was written'),
    rows: z.number().int().describe('Data rows read (header excluded)'),
    succeeded: z.number().int().describe('Rows that were (or, in a dry run, would be) imported'),
    failed: z.number().int(),
    errors: z
      .array(z.object({ row: z.number().int().describe('1-based data row number'), path: z.string().nullable(), message: z.string() }))
      .describe('Per-row problems, at most 1000 listed'),
  })
  .meta({ id: 'ImportReport' });

export const PARTNER_IMPORT_COLUMNS = ['email', 'name', 'tags', 'status', 'website', 'destinationUrl'] as const;

export const importEndpoints = {
  importPartners: defineEndpoint({
    method: 'POST', path: '/api/v1/programs/:id/partners/import', operationId: 'importPartners', tag: 'Imports', auth: { kind: 'scope', scope: 'write' },
    summary: 'Add partners to a program from a CSV body (Content-Type: text/csv)',
    description:
      'Header row with `email,name` and optionally `tags` (separated by spaces or `;`), `status` (approved|invited), `website`, ' +
      '`destinationUrl`. Every row is validated and tried; with `dryRun=true` nothing is written; otherwise nothing is written ' +
      'when any row fails unless `skipBadRows=true`. The body is read as a stream.',
    params: importPartnersParams, query: importQuery, status: 200, response: importReport,
  }),
};

export const CONVERSION_IMPORT_COLUMNS = [
  'type', 'externalId', 'email', 'name', 'country', 'eventName', 'amount', 'currency', 'invoiceId', 'occurredAt', 'productId', 'clickId', 'couponCode',
] as const;

const importError = z.object({ row: z.number().int().describe('1-based data row number'), path: z.string().nullable(), message: z.string() });

export const CONVERSION_IMPORT_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;

/** Progress of an accepted conversions import, recorded in the background. */
export const conversionImport = z
  .object({
    id: z.string(),
    status: z.enum(CONVERSION_IMPORT_STATUSES).describe('`queued` until a worker takes it, `running` while recording, then `completed`, `failed` or `cancelled`'),
    skipBadRows: z.boolean(),
    rows: z.number().int().describe('Data rows read (header excluded)'),
    recorded: z.number().int().describe('Rows recorded so far (a row already present, same invoiceId or customer+event, counts as recorded)'),
    failed: z.number().int().describe('Rows refused by validation (skipped) or by the recording'),
    errors: z.array(importError).describe('Per-row problems in row order, at most 1000 listed'),
    error: z.string().nullable().describe('Why the import as a whole failed, when status is `failed`'),
    createdAt: isoDateTime,
    startedAt: isoDateTime.nullable(),
    finishedAt: isoDateTime.nullable(),
  })
  .meta({ id: 'ConversionImport' });
export const conversionImportSummary = conversionImport.omit({ errors: true }).meta({ id: 'ConversionImportSummary' });
export const conversionImportParams = z.strictObject({ id: id.describe('Import id') });

export const conversionImportEndpoints = {
  importConversions: defineEndpoint({
    method: 'POST', path: '/api/v1/conversions/import', operationId: 'importConversions', tag: 'Imports', auth: { kind: 'scope', scope: 'write' },
    summary: 'Import historical leads and sales from a CSV body (Content-Type: text/csv)',
    description:
      `Columns: ${CONVERSION_IMPORT_COLUMNS.map((c) => '`' + c + '`').join(', ')}; \`type\` is \`lead\` or \`sale\` (default sale); ` +
      'a sale needs `amount` (minor units), `currency` and `invoiceId`. The body is streamed and every row is validated as the tracking ' +
      'API would before anything is written. With `dryRun=true`, or when a row fails and `skipBadRows` is not set, the answer is ' +
      '`200` with the ImportReport and nothing is written. Otherwise the rows are stored and the answer is `202` with a ConversionImport ' +
      '(`status: queued`): a background job records the rows through the tracking API\'s own functions (its `occurredAt`, attribution ' +
      'and idempotency: a repeated invoiceId or lead changes nothing), each customer\'s rows in file order. Poll ' +
      '`GET /api/v1/conversions/imports/{id}` until `completed` or `failed`.',
    query: importQuery, status: 200, response: z.union([importReport, conversionImport]),
  }),
  listConversionImports: defineEndpoint({
    method: 'GET', path: '/api/v1/conversions/imports', operationId: 'listConversionImports', tag: 'Imports', auth: { kind: 'scope', scope: 'read' },
    summary: 'Conversion imports, newest first (per-row errors only on the single import)',
    query: listQuery, status: 200, response: page(conversionImportSummary),
  }),
  getConversionImport: defineEndpoint({
    method: 'GET', path: '/api/v1/conversions/imports/:id', operationId: 'getConversionImport', tag: 'Imports', auth: { kind: 'scope', scope: 'read' },
    summary: 'Status and progress of one conversions import',
    params: conversionImportParams, status: 200, response: conversionImport,
  }),
  cancelConversionImport: defineEndpoint({
    method: 'POST', path: '/api/v1/conversions/imports/:id/cancel', operationId: 'cancelConversionImport', tag: 'Imports', auth: { kind: 'scope', scope: 'write' },
    summary: 'Stop a queued or running conversions import',
    description:
      'The rows not yet recorded are dropped and the import becomes `cancelled`. Rows already recorded stay: they are conversions like ' +
      'any other (reverse a sale with a refund). A chunk being recorded when the cancellation arrives (at most 512 rows) is finished, ' +
      'and counted in `recorded`. A completed, failed or cancelled import answers `409`.',
    params: conversionImportParams, status: 200, response: conversionImport,
  }),
};
