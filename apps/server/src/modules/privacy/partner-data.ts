import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { newId } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { notifyLinksChanged } from '../links/notify.js';
import { closePendingApplications } from '../partners/enrollments.js';
import { personalSet, redactEventsMentioning, storedRows } from './redact.js';

interface PartnerRow {
  id: string;
  email: string;
  name: string;
  website: string | null;
}

async function findPartner(db: pg.Pool | pg.PoolClient, workspaceId: string, id: string, lock = false): Promise<PartnerRow> {
  const { rows } = await db.query<PartnerRow>(`select id, email, name, website from partners where workspace_id = $1 and id = $2${lock ? ' for update' : ''}`, [workspaceId, id]);
  if (!rows[0]) throw new ApiError('not_found', 'Partner not found');
  return rows[0];
}

/** Everything the workspace holds about one partner, row by row as stored. */
export async function exportPartner(services: Services, workspaceId: string, partnerId: string) {
  const db = services.pool;
  await findPartner(db, workspaceId, partnerId);
  const byPartner = (table: string) => storedRows(db, `select * from ${table} where workspace_id = $1 and partner_id = $2 order by 1, 2`, [workspaceId, partnerId]);
  const [partner] = await storedRows(db, 'select * from partners where workspace_id = $1 and id = $2', [workspaceId, partnerId]);
  return {
    exportedAt: services.now().toISOString(),
    workspaceId,
    partner: partner!,
    enrollments: await byPartner('enrollments'),
    enrollmentEvents: await storedRows(
      db,
      'select ev.* from enrollment_events ev join enrollments e on e.workspace_id = ev.workspace_id and e.id = ev.enrollment_id where ev.workspace_id = $1 and e.partner_id = $2 order by ev.id',
      [workspaceId, partnerId],
    ),
    applications: await byPartner('applications'),
    links: await byPartner('links'),
    commissions: await byPartner('commissions'),
    payouts: await byPartner('payouts'),
    disputes: await byPartner('disputes'),
    identities: await byPartner('partner_identities'),
  };
}

/**
 * Erases a partner's personal data in this workspace. The partner can no longer earn: every
 * enrollment is banned (with an enrollment event saying why), coupon codes are released and links
 * archived. Name, email, website, application texts, the terms-acceptance IP hash and identity
 * hashes go, also from event payloads and webhook bodies. Commissions, payouts and the ledger keep
 * their amounts under the internal `ptn_` id. The person's global login (`users`) is not this
 * workspace's to delete; the link to it is cut.
 */
export async function erasePartner(services: Services, workspaceId: string, actor: AuditActor, partnerId: string): Promise<void> {
  await withTransaction(services.pool, async (client) => {
    const partner = await findPartner(client, workspaceId, partnerId, true);
    const personal = personalSet([partner.email, partner.name, partner.website]);
    await client.query(
      `update partners set email = $3, name = 'Erased partner', website = null, user_id = null where workspace_id = $1 and id = $2`,
      [workspaceId, partnerId, `erased+${partnerId}@erased.invalid`],
    );
    const { rows: enrollments } = await client.query<{ id: string; status: string }>(
      'select id, status from enrollments where workspace_id = $1 and partner_id = $2 for update',
      [workspaceId, partnerId],
    );
    await client.query(
      `update enrollments set status = 'banned', coupon_code = null, application = null, accepted_terms_ip_hash = null, updated_at = $3
        where workspace_id = $1 and partner_id = $2`,
      [workspaceId, partnerId, services.now()],
    );
    const actorLabel = actor.id ?? 'system';
    for (const enrollment of enrollments.filter((e) => e.status !== 'banned')) {
      await client.query(
        `insert into enrollment_events (workspace_id, id, enrollment_id, from_status, to_status, reason, actor, created_at) values ($1, $2, $3, $4, 'banned', 'personal data erased', $5, $6)`,
        [workspaceId, newId('ene'), enrollment.id, enrollment.status, actorLabel, services.now()],
      );
    }
    await closePendingApplications(client, workspaceId, { partnerId }, 'banned', 'personal data erased', actorLabel, services.now());
    await client.query('update applications set website = null, message = null where workspace_id = $1 and partner_id = $2', [workspaceId, partnerId]);
    // Archived links stop redirecting on every node: each node's cache hears of each one (and the
    // cache's poll, which reads updated_at, would find them too).
    const { rows: archived } = await client.query<{ key: string }>(
      'update links set archived_at = $3, updated_at = $3 where workspace_id = $1 and partner_id = $2 and archived_at is null returning key',
      [workspaceId, partnerId, services.now()],
    );
    await notifyLinksChanged(client, archived.map((l) => l.key));
    await client.query('delete from partner_identities where workspace_id = $1 and partner_id = $2', [workspaceId, partnerId]);
    await redactEventsMentioning(client, workspaceId, partnerId, personal);
    await recordAudit(client, { workspaceId, actor, action: 'partner.erased', target: { type: 'partner', id: partnerId }, after: { erased: ['email', 'name', 'website', 'applications', 'identities'], enrollmentsBanned: enrollments.length } });
  });
}
