import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { uuidFromClickId } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { emailHash } from '../tracking/record.js';
import { personalSet, redactEventsMentioning, redactResponses, storedRows } from './redact.js';

interface CustomerRow {
  id: string;
  external_id: string;
  email_hash: string | null;
  name: string | null;
  click_id: string | null;
}

async function findCustomer(db: pg.Pool | pg.PoolClient, workspaceId: string, externalId: string, lock = false): Promise<CustomerRow> {
  const { rows } = await db.query<CustomerRow>(
    `select id, external_id, email_hash, name, click_id from customers where workspace_id = $1 and external_id = $2${lock ? ' for update' : ''}`,
    [workspaceId, externalId],
  );
  if (!rows[0]) throw new ApiError('not_found', 'Customer not found');
  return rows[0];
}

/** Click ids the customer is linked to, as the uuids the clicks table is keyed by. */
async function customerClickUuids(db: pg.Pool | pg.PoolClient, workspaceId: string, customer: CustomerRow): Promise<string[]> {
  const { rows } = await db.query<{ click_id: string }>(
    `select touch_key as click_id from customer_touches where workspace_id = $1 and customer_id = $2 and touch_key like 'clk\\_%'
     union select click_id from leads where workspace_id = $1 and customer_id = $2 and click_id is not null
     union select click_id from sales where workspace_id = $1 and customer_id = $2 and click_id is not null`,
    [workspaceId, customer.id],
  );
  const ids = new Set([...rows.map((r) => r.click_id), ...(customer.click_id ? [customer.click_id] : [])]);
  return [...ids].map((id) => uuidFromClickId(id)).filter((u): u is string => u !== null);
}

/** Everything held about one customer, row by row as stored (data-subject access). */
export async function exportCustomer(services: Services, workspaceId: string, externalId: string) {
  const db = services.pool;
  const customer = await findCustomer(db, workspaceId, externalId);
  const byCustomer = (table: string) => storedRows(db, `select * from ${table} where workspace_id = $1 and customer_id = $2 order by 1, 2`, [workspaceId, customer.id]);
  const [row] = await storedRows(db, 'select * from customers where workspace_id = $1 and id = $2', [workspaceId, customer.id]);
  return {
    exportedAt: services.now().toISOString(),
    workspaceId,
    customer: row!,
    touches: await byCustomer('customer_touches'),
    clicks: await storedRows(db, 'select * from clicks where workspace_id = $1 and id = any($2::uuid[]) order by id', [workspaceId, await customerClickUuids(db, workspaceId, customer)]),
    leads: await byCustomer('leads'),
    sales: await byCustomer('sales'),
    refunds: await storedRows(
      db,
      'select r.* from refunds r join sales s on s.workspace_id = r.workspace_id and s.id = r.sale_id where r.workspace_id = $1 and s.customer_id = $2 order by r.id',
      [workspaceId, customer.id],
    ),
    commissions: await byCustomer('commissions'),
    events: await storedRows(db, `select * from outbox_events where workspace_id = $1 and data::text like $2 order by id`, [workspaceId, `%${customer.id}%`]),
  };
}

/**
 * Erases a customer's personal data. What identifies the person goes: name, country, the email
 * hash, the brand's external id (replaced by a tombstone, so it no longer links to the person and
 * stays unique), the fingerprints of its clicks, and those values wherever they were copied (event
 * payloads, webhook bodies, idempotent response snapshots, disputes naming its email). What the
 * money depends on stays: sales and refunds with their amounts, commissions, the ledger (no row of
 * it is touched, so its hash chain still verifies), all keyed by the internal `cus_` id.
 */
export async function eraseCustomer(services: Services, workspaceId: string, actor: AuditActor, externalId: string): Promise<void> {
  await withTransaction(services.pool, async (client) => {
    const customer = await findCustomer(client, workspaceId, externalId, true);
    const personal = personalSet([customer.external_id, customer.name, customer.email_hash]);
    const clickUuids = await customerClickUuids(client, workspaceId, customer);

    await client.query(
      `update customers set external_id = $3, name = null, country = null, email_hash = null where workspace_id = $1 and id = $2`,
      [workspaceId, customer.id, `erased:${customer.id}`],
    );
    await client.query('update clicks set visitor_hash = null, ip_hash = null where workspace_id = $1 and id = any($2::uuid[])', [workspaceId, clickUuids]);

    const leadIds = (await client.query<{ id: string }>('select id from leads where workspace_id = $1 and customer_id = $2', [workspaceId, customer.id])).rows.map((r) => r.id);
    const saleIds = (await client.query<{ id: string }>('select id from sales where workspace_id = $1 and customer_id = $2', [workspaceId, customer.id])).rows.map((r) => r.id);
    const refundIds = (await client.query<{ id: string }>('select id from refunds where workspace_id = $1 and sale_id = any($2)', [workspaceId, saleIds])).rows.map((r) => r.id);
    await redactResponses(client, 'leads', workspaceId, leadIds, personal);
    await redactResponses(client, 'sales', workspaceId, saleIds, personal);
    await redactResponses(client, 'refunds', workspaceId, refundIds, personal);
    await redactEventsMentioning(client, workspaceId, customer.id, personal);

    // A partner's missing-credit dispute may name the customer's email; match it by the same keyed hash.
    if (customer.email_hash) {
      const disputes = await client.query<{ id: string; customer_email: string }>(
        'select id, customer_email from disputes where workspace_id = $1 and customer_email is not null',
        [workspaceId],
      );
      const named = disputes.rows.filter((d) => emailHash(services, workspaceId, d.customer_email) === customer.email_hash).map((d) => d.id);
      if (named.length > 0) await client.query('update disputes set customer_email = null where workspace_id = $1 and id = any($2)', [workspaceId, named]);
    }

    // The audit entry names only the internal id: the trail must not keep what was just erased.
    await recordAudit(client, { workspaceId, actor, action: 'customer.erased', target: { type: 'customer', id: customer.id }, after: { erased: ['external_id', 'name', 'country', 'email_hash', 'click_fingerprints'] } });
  });
}
