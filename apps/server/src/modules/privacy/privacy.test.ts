import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clickIdFromUuid, uuidv7 } from '@tandem/core';
import { withTransaction } from '../../db/tx.js';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { emitEvent } from '../events/emit.js';
import { emailHash } from '../tracking/record.js';

const NOW = new Date('2026-09-01T10:00:00.000Z');
let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
});
afterAll(async () => ctx?.close());

const unique = (label: string) => `${label}-${randomBytes(5).toString('hex')}`;

async function programWithPartner(as = api, partner: { email?: string; name?: string; website?: string } = {}) {
  // Rewards on, so the erased customer has commissions and ledger entries that must stay verifiable.
  const program = await as('POST', '/api/v1/programs', { name: unique('Program'), currency: 'EUR', destinationUrl: 'https://brand.example/', rules: { lead: { type: 'flat', amount: 300 }, sale: { type: 'percentage', amount: 10 } } });
  expect(program.statusCode).toBe(201);
  const added = await as('POST', `/api/v1/programs/${program.json().id}/partners`, {
    email: partner.email ?? `${unique('partner')}@partners.example`,
    name: partner.name ?? 'Some Partner',
    ...(partner.website ? { website: partner.website } : {}),
  });
  expect(added.statusCode).toBe(201);
  return { programId: program.json().id as string, ...added.json<{ partner: { id: string }; enrollment: { id: string; couponCode: string | null }; link: { id: string } }>() };
}

/** Every text-like column of every table that holds the value anywhere: the proof of erasure. */
async function tablesHolding(value: string): Promise<string[]> {
  const { rows: columns } = await ctx.pool.query<{ table_name: string; column_name: string }>(
    `select c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
      where c.table_schema = current_schema() and c.data_type in ('text', 'character varying', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED', 'uuid')`,
  );
  expect(columns.length).toBeGreaterThan(50);
  const hits: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    const { rows } = await ctx.pool.query(`select 1 from "${table}" where lower("${column}"::text) like $1 limit 1`, [`%${value.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`]);
    if (rows.length) hits.push(`${table}.${column}`);
  }
  return hits;
}

describe('customer data-subject requests', () => {
  it('exports everything held, then erases every personal value from every table while money and the ledger stay', async () => {
    const { programId, partner, link } = await programWithPartner();
    const externalId = unique('cust');
    const email = `${unique('zelda')}@customers.example`;
    const name = unique('Zelda Quintessa');
    const ipHash = unique('iphash');
    const visitorHash = unique('visitorhash');
    const clickUuid = uuidv7(NOW.getTime() - 3600_000);
    await ctx.pool.query(
      `insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at, visitor_hash, ip_hash, country) values ($1, $2, $3, $4, $5, $6, $7, $8, 'DE')`,
      [brand.workspaceId, clickUuid, link.id, programId, partner.id, new Date(NOW.getTime() - 3600_000), visitorHash, ipHash],
    );
    const clickId = clickIdFromUuid(clickUuid);

    const lead = await api('POST', '/api/v1/track/lead', { clickId, customer: { externalId, email, name, country: 'DE' } });
    expect(lead.statusCode).toBe(200);
    const customerId = lead.json().customer.id as string;
    const invoiceId = unique('inv');
    const sale = await api('POST', '/api/v1/track/sale', { customer: { externalId }, amount: 12_000, currency: 'EUR', invoiceId });
    expect(sale.statusCode).toBe(200);
    const refund = await api('POST', '/api/v1/track/refund', { invoiceId, amount: 2_000 });
    expect(refund.statusCode).toBe(200);
    // An event about the customer, and a webhook delivery of it, carry its identifiers too.
    await api('POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/x', events: ['*'] });
    await withTransaction(ctx.pool, (client) => emitEvent(client, { workspaceId: brand.workspaceId, type: 'lead.created', data: { customerId, externalId, name, eventName: 'sign_up' } }));
    await ctx.services.queue.enqueue('webhooks.dispatch', {}, { uniqueKey: 'webhooks.dispatch' });
    await ctx.services.queue.drain();
    const hashedEmail = emailHash(ctx.services, brand.workspaceId, email);
    const personalValues = [externalId, email, name, hashedEmail, ipHash, visitorHash];
    for (const value of [externalId, name, hashedEmail, ipHash, visitorHash]) expect(await tablesHolding(value), value).not.toEqual([]);
    // The raw email was never stored, only its keyed hash.
    expect(await tablesHolding(email)).toEqual([]);
    expect(await tablesHolding(ipHash)).toEqual(['clicks.ip_hash']);
    expect((await tablesHolding(externalId)).length).toBeGreaterThan(3);

    const exported = await api('GET', `/api/v1/customers/${encodeURIComponent(externalId)}/export`);
    expect(exported.statusCode).toBe(200);
    const dump = exported.json();
    expect(dump.customer).toMatchObject({ id: customerId, externalId, name, emailHash: hashedEmail, country: 'DE', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/) });
    expect(dump.leads).toHaveLength(1);
    expect(dump.sales).toEqual([expect.objectContaining({ invoiceId, amount: 12_000, currency: 'EUR' })]);
    expect(dump.refunds).toEqual([expect.objectContaining({ amount: 2_000 })]);
    expect(dump.clicks).toEqual([expect.objectContaining({ id: clickId, ipHash, visitorHash })]);
    expect(dump.touches.map((t: { touchKey: string }) => t.touchKey)).toContain(clickId);
    expect(dump.events.map((e: { type: string }) => e.type)).toContain('lead.created');

    const ledgerBefore = await ctx.pool.query('select * from ledger_entries where workspace_id = $1 order by chain, seq', [brand.workspaceId]);
    const moneyBefore = await ctx.pool.query('select id, amount, currency, refunded_amount from sales where workspace_id = $1 order by id', [brand.workspaceId]);
    const commissionsBefore = await ctx.pool.query('select id, amount, status from commissions where workspace_id = $1 order by id', [brand.workspaceId]);

    const erased = await api('DELETE', `/api/v1/customers/${encodeURIComponent(externalId)}`);
    expect(erased.statusCode).toBe(204);

    for (const value of personalValues) expect(await tablesHolding(value), value).toEqual([]);
    expect((await ctx.pool.query('select ledger_entries.* from ledger_entries where workspace_id = $1 order by chain, seq', [brand.workspaceId])).rows).toEqual(ledgerBefore.rows);
    expect((await ctx.pool.query('select id, amount, currency, refunded_amount from sales where workspace_id = $1 order by id', [brand.workspaceId])).rows).toEqual(moneyBefore.rows);
    expect((await ctx.pool.query('select id, amount, status from commissions where workspace_id = $1 order by id', [brand.workspaceId])).rows).toEqual(commissionsBefore.rows);
    const verify = await api('GET', '/api/v1/ledger/verify');
    expect(verify.statusCode).toBe(200);
    expect(verify.json()).toMatchObject({ ok: true });
    expect(verify.json().entries).toBeGreaterThan(0);
    // The click still attributes (rollups, partner stats), only its fingerprints are gone.
    expect((await ctx.pool.query('select partner_id, visitor_hash, ip_hash from clicks where id = $1', [clickUuid])).rows).toEqual([{ partner_id: partner.id, visitor_hash: null, ip_hash: null }]);
    const audit = (await api('GET', '/api/v1/audit?action=customer.erased')).json().data;
    expect(audit).toEqual([expect.objectContaining({ target: { type: 'customer', id: customerId }, actor: expect.objectContaining({ kind: 'api_key' }) })]);

    expect((await api('GET', `/api/v1/customers/${encodeURIComponent(externalId)}/export`)).statusCode).toBe(404);
    expect((await api('DELETE', `/api/v1/customers/${encodeURIComponent(externalId)}`)).statusCode).toBe(404);
  });

  it('answers 404 for an unknown customer and for another workspace’s customer, and needs admin', async () => {
    const externalId = unique('cust');
    expect((await api('POST', '/api/v1/track/lead', { customer: { externalId, name: 'Kept Person' } })).statusCode).toBe(200);
    const stranger = asKey(ctx.app, (await signupActor(ctx.app)).apiKey);
    expect((await stranger('GET', `/api/v1/customers/${externalId}/export`)).statusCode).toBe(404);
    expect((await stranger('DELETE', `/api/v1/customers/${externalId}`)).statusCode).toBe(404);
    expect((await api('GET', '/api/v1/customers/nobody-here/export')).json().error.code).toBe('not_found');
    const reader = asKey(ctx.app, (await api('POST', '/api/v1/api-keys', { name: 'r', scopes: ['read', 'write'] })).json().key);
    expect((await reader('DELETE', `/api/v1/customers/${externalId}`)).statusCode).toBe(403);
    const still = await api('GET', `/api/v1/customers/${externalId}/export`);
    expect(still.json().customer.name).toBe('Kept Person');
  });
});

describe('partner data-subject requests', () => {
  it('exports the partner, then erases its personal data, bans it and keeps its money', async () => {
    const email = `${unique('pat')}@partners.example`;
    const name = unique('Patricia Partner');
    const website = `https://${unique('patsite')}.example`;
    const { partner, enrollment } = await programWithPartner(api, { email, name, website });
    for (const value of [email, name, website]) expect(await tablesHolding(value), value).not.toEqual([]);
    await ctx.pool.query(`insert into partner_identities (workspace_id, partner_id, kind, value_hash, seen_at) values ($1, $2, 'ip_hash', $3, $4)`, [brand.workspaceId, partner.id, unique('pidhash'), NOW]);

    const exported = await api('GET', `/api/v1/partners/${partner.id}/export`);
    expect(exported.statusCode).toBe(200);
    const dump = exported.json();
    expect(dump.partner).toMatchObject({ id: partner.id, email, name, website });
    expect(dump.enrollments).toEqual([expect.objectContaining({ id: enrollment.id, status: 'approved' })]);
    expect(dump.links).toHaveLength(1);
    expect(dump.identities).toHaveLength(1);
    // The partner's link redirects, and this node's cache holds it.
    const visit = () => ctx.app.inject({ method: 'GET', url: `/r/${dump.links[0].key}`, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36' } });
    expect((await visit()).statusCode).toBe(302);

    expect((await api('DELETE', `/api/v1/partners/${partner.id}/personal-data`)).statusCode).toBe(204);
    // Archived with the erasure, it stops redirecting: every node's cache hears of it.
    await vi.waitFor(async () => expect((await visit()).statusCode).toBe(404), { timeout: 3000, interval: 20 });

    for (const value of [email, name, website]) expect(await tablesHolding(value), value).toEqual([]);
    const after = (await api('GET', `/api/v1/partners/${partner.id}/export`)).json();
    expect(after.partner).toMatchObject({ name: 'Erased partner', website: null, userId: null });
    expect(after.enrollments).toEqual([expect.objectContaining({ status: 'banned', couponCode: null })]);
    expect(after.enrollmentEvents.at(-1)).toMatchObject({ fromStatus: 'approved', toStatus: 'banned', reason: 'personal data erased' });
    expect(after.links[0].archivedAt).not.toBeNull();
    expect(after.identities).toEqual([]);
  });

  it('answers 404 for another workspace’s partner', async () => {
    const { partner } = await programWithPartner();
    const stranger = asKey(ctx.app, (await signupActor(ctx.app)).apiKey);
    expect((await stranger('GET', `/api/v1/partners/${partner.id}/export`)).statusCode).toBe(404);
    expect((await stranger('DELETE', `/api/v1/partners/${partner.id}/personal-data`)).statusCode).toBe(404);
    expect((await api('GET', `/api/v1/partners/${partner.id}/export`)).json().partner.name).toBe('Some Partner');
  });
});
