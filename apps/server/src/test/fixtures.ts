import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { asKey, cookieHeader, signupActor, type Actor, type TestContext } from './harness.js';
import { verifyPortalEmailForTest } from '../modules/portal/test-support.js';

/** One workspace holding one of every kind of resource, created over HTTP as an integrator would. */
export interface Tenant {
  actor: Actor;
  /** The session of the tenant's partner's own person in the partner portal. */
  portal: { cookie: string; csrf: string };
  ids: {
    programId: string;
    partnerId: string;
    enrollmentId: string;
    linkId: string;
    couponCode: string;
    clickId: string;
    applicationId: string;
    customerId: string;
    customerExternalId: string;
    saleId: string;
    invoiceId: string;
    commissionId: string;
    heldCommissionId: string;
    payoutId: string;
    batchId: string;
    partnershipId: string;
    shareLinkId: string;
    webhookId: string;
    deliveryId: string;
    disputeId: string;
    apiKeyId: string;
    invitationId: string;
    memberUserId: string;
    conversionImportId: string;
  };
}

const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

function created(res: LightMyRequestResponse, what: string, status = 201) {
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBe(status);
  return res.json();
}

/**
 * Seeds a tenant. `prefix` keeps every human-readable value (emails, external ids, invoices) unique
 * to the tenant, so a value of one tenant found in another's answer is a leak, not a coincidence.
 * `partnershipPeer` is a third workspace the tenant invites to a partnership.
 */
export async function seedTenant(ctx: TestContext, prefix: string, partnershipPeer: Actor): Promise<Tenant> {
  const actor = await signupActor(ctx.app, { workspaceName: `${prefix} brand` });
  const api = asKey(ctx.app, actor.apiKey);

  const program = created(
    await api('POST', '/api/v1/programs', {
      name: `${prefix} program`,
      currency: 'USD',
      destinationUrl: `https://${prefix}.example.com/`,
      rules: { sale: { type: 'percentage', amount: 10 }, qualification: { holdDays: 0 } },
      terms: { text: `${prefix} terms` },
      approval: { mode: 'manual' },
      status: 'active',
    }),
    'program',
  );
  const partnerEmail = `${prefix}-partner@example.com`;
  const added = created(await api('POST', `/api/v1/programs/${program.id}/partners`, { email: partnerEmail, name: `${prefix} partner`, status: 'approved' }), 'partner');
  const link = created(await api('POST', '/api/v1/links', { programId: program.id, partnerId: added.partner.id, key: `${prefix}-link` }), 'link');
  const visit = await ctx.app.inject({ method: 'GET', url: `/r/${link.key}`, headers: { 'user-agent': BROWSER_UA }, remoteAddress: prefix === 'alpha' ? '198.51.100.10' : '198.51.100.20' });
  expect(visit.statusCode).toBe(302);
  const clickId = new URL(visit.headers.location as string).searchParams.get('tdm_click')!;

  const application = created(
    await ctx.app.inject({ method: 'POST', url: `/api/v1/public/programs/${program.slug}/applications`, payload: { name: `${prefix} applicant`, email: `${prefix}-applicant@example.com` } }),
    'application',
  );

  const customerExternalId = `${prefix}-customer`;
  const invoiceId = `${prefix}-invoice`;
  const lead = created(await api('POST', '/api/v1/track/lead', { clickId, customer: { externalId: customerExternalId, name: `${prefix} customer` } }), 'lead', 200);
  const sale = created(await api('POST', '/api/v1/track/sale', { customer: { externalId: customerExternalId }, amount: 10_000, currency: 'USD', invoiceId }), 'sale', 200);
  expect(sale.commission, 'the sale earns a commission').toBeDefined();
  created(await api('POST', '/api/v1/jobs/mature', { asOf: ctx.clock.now.toISOString() }), 'maturity', 200);
  const payouts = created(await api('POST', '/api/v1/payouts', { programId: program.id, minAmount: 0 }), 'payouts');

  // A commission held for review: a hair-trigger hold threshold, then an instant click → sale.
  created(await api('PUT', `/api/v1/programs/${program.id}/fraud-settings`, { holdThreshold: 1 }), 'fraud settings', 200);
  const second = await ctx.app.inject({ method: 'GET', url: `/r/${link.key}`, headers: { 'user-agent': BROWSER_UA }, remoteAddress: prefix === 'alpha' ? '198.51.100.11' : '198.51.100.21' });
  const secondClick = new URL(second.headers.location as string).searchParams.get('tdm_click')!;
  const heldSale = created(await api('POST', '/api/v1/track/sale', { customer: { externalId: `${prefix}-hasty-customer` }, amount: 10_000, currency: 'USD', invoiceId: `${prefix}-hasty-invoice`, clickId: secondClick }), 'held sale', 200);
  expect(heldSale.commission, 'the hasty sale is held for review').toMatchObject({ status: 'held' });

  const partnership = created(await api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: partnershipPeer.workspaceSlug, programId: program.id }), 'partnership');
  const shareLink = created(await api('POST', `/api/v1/partnerships/${partnership.id}/share-links`, {}), 'share link');

  const webhook = created(await api('POST', '/api/v1/webhooks', { url: `https://${prefix}-hooks.example.com/tandem`, events: ['*'] }), 'webhook');
  const delivery = created(await api('POST', `/api/v1/webhooks/${webhook.id}/test`), 'test delivery', 202);

  // The partner's person signs in to the portal (same email) and disputes the commission.
  const signup = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/signup', payload: { email: partnerEmail, password: 'correct horse battery', name: `${prefix} partner` } });
  const portal = created(signup, 'portal signup');
  const cookie = cookieHeader(signup);
  await verifyPortalEmailForTest(ctx, { userId: portal.user.id, email: partnerEmail, cookie, csrf: portal.csrfToken });
  const dispute = created(
    await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/portal/disputes',
      headers: { cookie, 'x-csrf-token': portal.csrfToken },
      payload: { kind: 'commission', commissionId: sale.commission.id, message: `${prefix}: the amount looks wrong` },
    }),
    'dispute',
  );

  const apiKey = created(await api('POST', '/api/v1/api-keys', { name: `${prefix} ci`, scopes: ['read'] }), 'api key');
  const invitation = created(await api('POST', '/api/v1/invitations', { email: `${prefix}-colleague@example.com` }), 'invitation');
  // A conversions import (accepted, recorded in the background): the sweep only needs it to exist.
  const conversionImport = created(
    await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/conversions/import',
      headers: { authorization: `Bearer ${actor.apiKey}`, 'content-type': 'text/csv' },
      payload: `externalId,amount,currency,invoiceId\n${prefix}-imported-customer,500,USD,${prefix}-imported-invoice\n`,
    }),
    'conversion import',
    202,
  );

  return {
    actor,
    portal: { cookie, csrf: portal.csrfToken },
    ids: {
      programId: program.id,
      partnerId: added.partner.id,
      enrollmentId: added.enrollment.id,
      linkId: link.id,
      couponCode: added.enrollment.couponCode,
      clickId,
      applicationId: application.id,
      customerId: lead.customer.id,
      customerExternalId,
      saleId: sale.sale.id,
      invoiceId,
      commissionId: sale.commission.id,
      heldCommissionId: heldSale.commission.id,
      payoutId: payouts.payouts[0].id,
      batchId: payouts.batchId,
      partnershipId: partnership.id,
      shareLinkId: shareLink.id,
      webhookId: webhook.id,
      deliveryId: delivery.id,
      disputeId: dispute.id,
      apiKeyId: apiKey.id,
      invitationId: invitation.id,
      memberUserId: actor.userId,
      conversionImportId: conversionImport.id,
    },
  };
}
