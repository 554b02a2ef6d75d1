import { endpoints } from '@tandem/contracts';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function customerRoutes(r: Router): void {
  r.handle(endpoints.listCustomers, async ({ query, auth, services }) => {
    const after = decodeCursor(query.cursor);
    const { rows } = await services.pool.query<{
      id: string;
      external_id: string;
      name: string | null;
      country: string | null;
      program_id: string | null;
      partner_id: string | null;
      attributed_via: 'click' | 'coupon' | null;
      click_id: string | null;
      first_attributed_at: Date | null;
      created_at: Date;
    }>(
      `select id, external_id, name, country, program_id, partner_id, attributed_via, click_id, first_attributed_at, created_at
         from customers
        where workspace_id = $1 and ($2::text is null or id < $2)
          and ($3::text is null or program_id = $3) and ($4::text is null or partner_id = $4)
        order by id desc limit $5`,
      [auth.workspaceId, after ?? null, query.programId ?? null, query.partnerId ?? null, query.limit + 1],
    );
    return pageOf(
      rows.map((c) => ({
        id: c.id,
        externalId: c.external_id,
        name: c.name,
        country: c.country,
        programId: c.program_id,
        partnerId: c.partner_id,
        attributedVia: c.attributed_via,
        clickId: c.click_id,
        firstAttributedAt: iso(c.first_attributed_at),
        createdAt: c.created_at.toISOString(),
      })),
      query.limit,
      (c) => c.id,
    );
  });

  r.handle(endpoints.listSales, async ({ query, auth, services }) => {
    const after = decodeCursor(query.cursor);
    const { rows } = await services.pool.query<{
      id: string;
      invoice_id: string;
      customer_id: string;
      amount: number;
      refunded_amount: number;
      currency: string;
      product_id: string | null;
      occurred_at: Date;
      program_id: string | null;
      partner_id: string | null;
      attributed_via: 'click' | 'coupon' | null;
      source: 'api' | 'stripe';
    }>(
      `select id, invoice_id, customer_id, amount, refunded_amount, currency, product_id, occurred_at, program_id, partner_id, attributed_via, source
         from sales
        where workspace_id = $1 and ($2::text is null or id < $2)
          and ($3::text is null or program_id = $3) and ($4::text is null or partner_id = $4) and ($5::text is null or customer_id = $5)
        order by id desc limit $6`,
      [auth.workspaceId, after ?? null, query.programId ?? null, query.partnerId ?? null, query.customerId ?? null, query.limit + 1],
    );
    return pageOf(
      rows.map((s) => ({
        id: s.id,
        invoiceId: s.invoice_id,
        customerId: s.customer_id,
        amount: Number(s.amount),
        refundedAmount: Number(s.refunded_amount),
        currency: s.currency,
        productId: s.product_id,
        occurredAt: s.occurred_at.toISOString(),
        programId: s.program_id,
        partnerId: s.partner_id,
        attributedVia: s.attributed_via,
        source: s.source,
      })),
      query.limit,
      (s) => s.id,
    );
  });
}
