import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { isoDateTime, listQuery, page } from './common.js';

/*
 * Customers as tracking knows them: the brand's external id and the standing attribution. The
 * email is held only as a keyed hash and never returned. (Export and erasure: privacy module.)
 */

export const customer = z
  .object({
    id: z.string(),
    externalId: z.string(),
    name: z.string().nullable(),
    country: z.string().nullable(),
    programId: z.string().nullable(),
    partnerId: z.string().nullable(),
    attributedVia: z.enum(['click', 'coupon']).nullable(),
    clickId: z.string().nullable(),
    firstAttributedAt: isoDateTime.nullable(),
    createdAt: isoDateTime,
  })
  .meta({ id: 'Customer' });

export const listCustomersQuery = listQuery.extend({
  programId: z.string().min(1).max(64).optional(),
  partnerId: z.string().min(1).max(64).optional(),
});

export const saleItem = z
  .object({
    id: z.string(),
    invoiceId: z.string(),
    customerId: z.string(),
    amount: z.number().int(),
    refundedAmount: z.number().int(),
    currency: z.string(),
    productId: z.string().nullable(),
    occurredAt: isoDateTime,
    programId: z.string().nullable(),
    partnerId: z.string().nullable(),
    attributedVia: z.enum(['click', 'coupon']).nullable(),
    source: z.enum(['api', 'stripe']),
  })
  .meta({ id: 'Sale' });

export const listSalesQuery = listQuery.extend({
  programId: z.string().min(1).max(64).optional(),
  partnerId: z.string().min(1).max(64).optional(),
  customerId: z.string().min(1).max(64).optional(),
});

const tag = 'Tracking';
export const customerEndpoints = {
  listCustomers: defineEndpoint({
    method: 'GET',
    path: '/api/v1/customers',
    operationId: 'listCustomers',
    tag,
    auth: { kind: 'scope', scope: 'read' },
    summary: 'Customers, newest first, with their standing attribution (never their email)',
    query: listCustomersQuery,
    status: 200,
    response: page(customer),
  }),
  listSales: defineEndpoint({
    method: 'GET',
    path: '/api/v1/sales',
    operationId: 'listSales',
    tag,
    auth: { kind: 'scope', scope: 'read' },
    summary: 'Sales, newest first, with attribution and the amount refunded so far',
    query: listSalesQuery,
    status: 200,
    response: page(saleItem),
  }),
} as const;
