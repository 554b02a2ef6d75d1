import type pg from 'pg';

export interface PartnerRow {
  workspaceId: string;
  partnerId: string;
}

/**
 * The partner rows a signed-in user acts as: one per brand whose partner it is (partners.user_id).
 * Every portal query is confined to these rows, which is what keeps one partner from seeing
 * another's disputes.
 */
export async function partnerRowsOfUser(db: pg.Pool | pg.PoolClient, userId: string): Promise<PartnerRow[]> {
  const { rows } = await db.query<{ workspace_id: string; id: string }>('select workspace_id, id from partners where user_id = $1', [userId]);
  return rows.map((r) => ({ workspaceId: r.workspace_id, partnerId: r.id }));
}
