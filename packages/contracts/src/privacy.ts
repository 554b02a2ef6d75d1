import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { isoDateTime } from './common.js';

/** A stored row exactly as Tandem holds it (column names as keys). */
const storedRow = z.record(z.string(), z.unknown());
const rows = z.array(storedRow);

export const customerParams = z.strictObject({ externalId: z.string().min(1).max(200).describe("The brand's own customer id") });
export const partnerParams = z.strictObject({ id: z.string().min(1).max(64) });

export const customerExport = z
  .object({
    exportedAt: isoDateTime,
    workspaceId: z.string(),
    customer: storedRow,
    touches: rows.describe('Click ids and coupon codes the customer arrived with'),
    clicks: rows.describe('The raw clicks that attributed the customer'),
    leads: rows,
    sales: rows,
    refunds: rows,
    commissions: rows.describe('Commissions partners earned on this customer'),
    events: rows.describe('Outbox events about the customer (what webhooks carried)'),
  })
  .meta({ id: 'CustomerExport' });

export const partnerExport = z
  .object({
    exportedAt: isoDateTime,
    workspaceId: z.string(),
    partner: storedRow,
    enrollments: rows,
    enrollmentEvents: rows,
    applications: rows,
    links: rows,
    commissions: rows,
    payouts: rows,
    disputes: rows,
    identities: rows.describe('Keyed hashes of sign-in IPs and payout details'),
  })
  .meta({ id: 'PartnerExport' });

const tag = 'Privacy';
export const privacyEndpoints = {
  exportCustomer: defineEndpoint({
    method: 'GET', path: '/api/v1/customers/:externalId/export', operationId: 'exportCustomer', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Everything Tandem holds about a customer (data-subject access request)', params: customerParams, status: 200, response: customerExport,
  }),
  eraseCustomer: defineEndpoint({
    method: 'DELETE', path: '/api/v1/customers/:externalId', operationId: 'eraseCustomer', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: "Erase a customer's personal data (right to erasure)",
    description:
      'Name, country, the email hash and the external id are removed; click fingerprints are cleared; event and webhook ' +
      'payloads lose the external id. Sales, commissions and the ledger keep their amounts and hashes, so balances and ' +
      '`GET /api/v1/ledger/verify` are unchanged. The customer is then known only by its internal `cus_` id.',
    params: customerParams, status: 204,
  }),
  exportPartner: defineEndpoint({
    method: 'GET', path: '/api/v1/partners/:id/export', operationId: 'exportPartner', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Everything the workspace holds about a partner (data-subject access request)', params: partnerParams, status: 200, response: partnerExport,
  }),
  erasePartner: defineEndpoint({
    method: 'DELETE', path: '/api/v1/partners/:id/personal-data', operationId: 'erasePartnerPersonalData', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: "Erase a partner's personal data; its commissions, payouts and ledger stay",
    description: 'The partner is banned in every program (it can no longer earn), its links stop redirecting, and its name, email, website, application texts and identity hashes are removed.',
    params: partnerParams, status: 204,
  }),
};
