import type pg from 'pg';
import type { PartnerRow } from './partner-access.js';

/*
 * What a partner may dispute, looked up within its own partner rows only. Commissions and payouts
 * belong to the rewards and payouts modules; these read their tables and never write them.
 */

const ownRows = (rows: PartnerRow[]) => [rows.map((p) => p.workspaceId), rows.map((p) => p.partnerId)];

export async function findCommissionOfPartner(client: pg.PoolClient, partnerRows: PartnerRow[], commissionId: string): Promise<(PartnerRow & { programId: string }) | null> {
  const { rows } = await client.query<{ workspace_id: string; partner_id: string; program_id: string }>(
    `select workspace_id, partner_id, program_id from commissions
      where id = $1 and (workspace_id, partner_id) in (select * from unnest($2::text[], $3::text[]))`,
    [commissionId, ...ownRows(partnerRows)],
  );
  const row = rows[0];
  return row ? { workspaceId: row.workspace_id, partnerId: row.partner_id, programId: row.program_id } : null;
}

export async function findPayoutOfPartner(client: pg.PoolClient, partnerRows: PartnerRow[], payoutId: string): Promise<(PartnerRow & { programId: string }) | null> {
  const { rows } = await client.query<{ workspace_id: string; partner_id: string; program_id: string }>(
    `select workspace_id, partner_id, program_id from payouts
      where id = $1 and (workspace_id, partner_id) in (select * from unnest($2::text[], $3::text[]))`,
    [payoutId, ...ownRows(partnerRows)],
  );
  const row = rows[0];
  return row ? { workspaceId: row.workspace_id, partnerId: row.partner_id, programId: row.program_id } : null;
}
