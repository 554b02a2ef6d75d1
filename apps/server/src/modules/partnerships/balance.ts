import { ApiError } from '@tandem/contracts';
import type pg from 'pg';
import { netBalances, reciprocityChecks, type Direction } from '@tandem/core';
import { OWED_SQL } from '../payouts/payouts.js';
import { loadPartnership, membersOf } from './partnerships.js';

type Db = pg.PoolClient | pg.Pool;

export interface ConversionFigures {
  referrals: number;
  /** Minor units, net of refunds. */
  revenue: number;
  /** Minor units, net of reversals. */
  commissions: number;
  /** Of those, what is not yet paid nor settled by partnership netting. */
  outstanding: number;
}

const tableExists = async (db: Db, table: string) => (await db.query<{ found: string | null }>('select to_regclass($1) as found', [`public.${table}`])).rows[0]?.found !== null;

/**
 * Referrals, revenue and commissions a partner brought a program. The tables are owned by the
 * tracking and rewards modules; each figure is read only when its table exists, so the balance is
 * zero before those modules are installed and real as soon as they are.
 */
export async function loadConversionFigures(db: Db, workspaceId: string, programId: string, partnerId: string): Promise<ConversionFigures> {
  const figures: ConversionFigures = { referrals: 0, revenue: 0, commissions: 0, outstanding: 0 };
  const args = [workspaceId, programId, partnerId];
  if (await tableExists(db, 'customers')) {
    const { rows } = await db.query<{ n: number }>('select count(*)::int as n from customers where workspace_id = $1 and program_id = $2 and partner_id = $3', args);
    figures.referrals = rows[0]?.n ?? 0;
  }
  if (await tableExists(db, 'sales')) {
    const { rows } = await db.query<{ total: string }>('select coalesce(sum(amount - refunded_amount), 0)::text as total from sales where workspace_id = $1 and program_id = $2 and partner_id = $3', args);
    figures.revenue = Number(rows[0]?.total ?? 0);
  }
  if (await tableExists(db, 'commissions')) {
    const { rows } = await db.query<{ total: string; outstanding: string }>(
      `select coalesce(sum(amount - reversed_amount), 0)::text as total,
              coalesce(sum(${OWED_SQL}) filter (where status in ('pending', 'held', 'payable')), 0)::text as outstanding
         from commissions c where workspace_id = $1 and program_id = $2 and partner_id = $3 and status <> 'reversed'`,
      args,
    );
    figures.commissions = Number(rows[0]?.total ?? 0);
    figures.outstanding = Number(rows[0]?.outstanding ?? 0);
  }
  return figures;
}

/**
 * Every direction between active members (A promoting B's program, and B promoting A's), with its
 * clicks and conversion figures, then the netted amounts per pair and currency.
 */
export async function partnershipBalance(db: Db, workspaceId: string, partnershipId: string) {
  const partnership = await loadPartnership(db, workspaceId, partnershipId);
  // The figures are the members' business: a brand only invited (or that declined) sees none.
  if (partnership.members.find((m) => m.workspaceId === workspaceId)?.status !== 'active') {
    throw new ApiError('forbidden', "Only brands that joined the partnership see its figures");
  }
  const members = (await membersOf(db, partnership.createdByWorkspaceId, partnershipId)).filter((m) => m.status === 'active' && m.program_id && m.program_currency);
  const directions: Direction[] = [];
  for (const host of members) {
    for (const guest of members) {
      if (guest.workspace_id === host.workspace_id) continue;
      const { rows } = await db.query<{ id: string }>('select id from partners where workspace_id = $1 and partner_workspace_id = $2', [host.workspace_id, guest.workspace_id]);
      const partnerIds = rows.map((r) => r.id);
      let clicks = 0;
      const totals: ConversionFigures = { referrals: 0, revenue: 0, commissions: 0, outstanding: 0 };
      for (const partnerId of partnerIds) {
        // From the rollups: dashboards never scan raw clicks.
        const c = await db.query<{ n: number }>('select coalesce(sum(clicks), 0)::int as n from click_rollups where workspace_id = $1 and program_id = $2 and partner_id = $3', [host.workspace_id, host.program_id, partnerId]);
        clicks += c.rows[0]?.n ?? 0;
        const f = await loadConversionFigures(db, host.workspace_id, host.program_id!, partnerId);
        totals.referrals += f.referrals;
        totals.revenue += f.revenue;
        totals.commissions += f.commissions;
        totals.outstanding += f.outstanding;
      }
      directions.push({ fromWorkspaceId: guest.workspace_id, toWorkspaceId: host.workspace_id, clicks, ...totals, currency: host.program_currency! });
    }
  }
  const nets = netBalances(directions);
  const fallbackCurrency = members[0]?.program_currency ?? 'USD';
  return {
    partnershipId,
    directions,
    net: nets[0] ?? { owedByWorkspaceId: null, owedToWorkspaceId: null, amount: 0, currency: fallbackCurrency },
    nets,
    reciprocity: reciprocityChecks(directions, partnership.agreement.reciprocityTargetPct ?? null),
  };
}
