import type pg from 'pg';
import { ApiError, type PartnershipSettlement } from '@tandem/contracts';
import { allocateOffset, newId, offsetsByPartner, offsetSettled, planNetting, sideTotal, type ItemAllocation, type PayableItem } from '@tandem/core';
import { recordAudit, type AuditActor } from '../audit/record.js';
import { emitEvent } from '../events/emit.js';
import { postEntry } from '../ledger/post.js';
import { createNetPayout, OWED_SQL } from '../payouts/payouts.js';
import { lockPartners } from '../../db/locks.js';
import { logRewardEvent } from '../rewards/context.js';
import { locate, membersOf } from './partnerships.js';

/*
 * Settling a reciprocal partnership by netting (docs/decisions/0012-reciprocal-netting.md). For each
 * pair of member brands whose programs share a currency, in one transaction across both
 * workspaces: what each program owes the other brand (the payable commissions of the partner row
 * that represents it) is offset up to the smaller amount, settled in both ledgers without cash,
 * and the difference becomes a pending payout from the brand that owes more (one per partner row
 * that represents the other brand with something left to pay; usually there is one row).
 */

type Db = pg.PoolClient | pg.Pool;

interface Member {
  workspaceId: string;
  programId: string;
  currency: string;
}

/** What `host`'s program owes `guest`'s brand, read under the locks of the partner rows involved. */
interface Side {
  host: Member;
  guest: Member;
  items: PayableItem[];
  /** Each item's commission key: the reward event log names commissions by key (replay). */
  keys: Map<string, string>;
}

interface SettlementRow {
  id: string;
  partnership_id: string;
  a_workspace_id: string;
  b_workspace_id: string;
  currency: string;
  a_owes_b: string | number;
  b_owes_a: string | number;
  offset_amount: string | number;
  net_payer_workspace_id: string | null;
  net_amount: string | number;
  net_payout_id: string | null;
  net_payout_ids: string[];
  settled_by_workspace_id: string;
  created_at: Date;
}
const SETTLEMENT_COLUMNS = 'id, partnership_id, a_workspace_id, b_workspace_id, currency, a_owes_b, b_owes_a, offset_amount, net_payer_workspace_id, net_amount, net_payout_id, net_payout_ids, settled_by_workspace_id, created_at';

export function toSettlement(r: SettlementRow): PartnershipSettlement {
  const payer = r.net_payer_workspace_id;
  return {
    id: r.id,
    partnershipId: r.partnership_id,
    currency: r.currency,
    gross: [
      { owedByWorkspaceId: r.a_workspace_id, owedToWorkspaceId: r.b_workspace_id, amount: Number(r.a_owes_b) },
      { owedByWorkspaceId: r.b_workspace_id, owedToWorkspaceId: r.a_workspace_id, amount: Number(r.b_owes_a) },
    ],
    offset: Number(r.offset_amount),
    net: {
      owedByWorkspaceId: payer,
      owedToWorkspaceId: payer === null ? null : payer === r.a_workspace_id ? r.b_workspace_id : r.a_workspace_id,
      amount: Number(r.net_amount),
      payoutId: r.net_payout_ids[0] ?? null,
      payoutIds: r.net_payout_ids,
    },
    settledByWorkspaceId: r.settled_by_workspace_id,
    createdAt: r.created_at.toISOString(),
  };
}

async function loadSide(client: pg.PoolClient, host: Member, guest: Member): Promise<Side> {
  // A brand is one partner row in another brand's program (enrolled by its owner's email).
  const { rows: partners } = await client.query<{ id: string }>('select id from partners where workspace_id = $1 and partner_workspace_id = $2 order by id', [host.workspaceId, guest.workspaceId]);
  // The partners' locks order the settlement with their commissions, maturity and payouts (db/locks.ts).
  await lockPartners(client, host.workspaceId, partners.map((p) => ({ programId: host.programId, partnerId: p.id })));
  const { rows } = await client.query<{ id: string; key: string; partner_id: string; owed: string }>(
    `select c.id, c.key, c.partner_id, ${OWED_SQL}::text as owed from commissions c
      where c.workspace_id = $1 and c.program_id = $2 and c.partner_id = any($3) and c.status = 'payable' and c.payout_id is null
      order by c.occurred_at, c.id`,
    [host.workspaceId, host.programId, partners.map((p) => p.id)],
  );
  const items = rows.map((r) => ({ id: r.id, partnerId: r.partner_id, owed: Number(r.owed) }));
  // A partner row whose clawbacks outweigh its commissions owes the brand nothing now: as in a
  // payout batch, it is left out and its balance is netted into its later earnings. Counted in, its
  // negative balance lowered the side's total while no payout can carry a negative amount, so the
  // payouts made (one per row) added up to more than the settlement's net.
  const owedByRow = new Map<string, number>();
  for (const item of items) owedByRow.set(item.partnerId, (owedByRow.get(item.partnerId) ?? 0) + item.owed);
  const owing = items.filter((item) => owedByRow.get(item.partnerId)! > 0);
  return { host, guest, items: owing, keys: new Map(rows.map((r) => [r.id, r.key])) };
}

/** Settles a side's share of the offset: offset rows, commissions settled whole become paid, one journal entry per partner row. */
async function settleOffset(client: pg.PoolClient, side: Side, allocation: ItemAllocation[], settlementId: string, now: Date): Promise<void> {
  const { host } = side;
  const consumed = allocation.filter((a) => a.offset !== 0);
  if (consumed.length > 0) {
    await client.query(
      `insert into partnership_settlement_offsets (workspace_id, settlement_id, commission_id, program_id, partner_id, amount)
       select $1, $2, x.commission_id, $3, x.partner_id, x.amount from unnest($4::text[], $5::text[], $6::bigint[]) as x(commission_id, partner_id, amount)`,
      [host.workspaceId, settlementId, host.programId, consumed.map((a) => a.id), consumed.map((a) => a.partnerId), consumed.map((a) => a.offset)],
    );
  }
  const settledWhole = allocation.filter((a) => a.rest === 0).map((a) => a.id);
  if (settledWhole.length > 0) await client.query(`update commissions set status = 'paid', updated_at = now() where workspace_id = $1 and id = any($2)`, [host.workspaceId, settledWhole]);
  for (const [partnerId, amount] of offsetsByPartner(allocation)) {
    await postEntry(client, { workspaceId: host.workspaceId, programId: host.programId, partnerId, currency: host.currency, kind: 'partnership.settled', ref: settlementId, at: now, postings: offsetSettled(host.programId, partnerId, amount) });
    await logRewardEvent(client, host.workspaceId, host.programId, 'partnership_settlement', settlementId, {
      settlementId,
      partnerId,
      offset: amount,
      commissions: allocation.filter((a) => a.partnerId === partnerId && (a.offset !== 0 || a.rest === 0)).map((a) => ({ id: a.id, key: side.keys.get(a.id), offset: a.offset, rest: a.rest })),
    });
  }
}

/** Pays what the paying side still owes after the offset: one payout per partner row with a positive rest, in the order the rows' oldest remaining commissions came. */
async function payDifference(client: pg.PoolClient, side: Side, allocation: ItemAllocation[], settlementId: string): Promise<string[]> {
  const remaining = allocation.filter((a) => a.rest !== 0);
  const payoutIds: string[] = [];
  for (const partnerId of new Set(remaining.map((a) => a.partnerId))) {
    const mine = remaining.filter((a) => a.partnerId === partnerId);
    const amount = mine.reduce((sum, a) => sum + a.rest, 0);
    if (amount <= 0) continue;
    const payout = await createNetPayout(client, {
      workspaceId: side.host.workspaceId, programId: side.host.programId, partnerId, currency: side.host.currency, amount, commissionIds: mine.map((a) => a.id), settlementId,
    });
    payoutIds.push(payout.id);
  }
  return payoutIds;
}

async function settlePair(client: pg.PoolClient, partnershipId: string, a: Member, b: Member, settledBy: { workspaceId: string; actor: AuditActor }, now: Date): Promise<PartnershipSettlement | null> {
  // Both sides are locked in workspace-id order, so two settlements touching the same brands cannot deadlock.
  const aSide = await loadSide(client, a, b);
  const bSide = await loadSide(client, b, a);
  const plan = planNetting(sideTotal(aSide.items), sideTotal(bSide.items));
  if (plan.offset === 0 && plan.net === null) return null;
  const id = newId('stl');
  let netPayoutIds: string[] = [];
  for (const [side, pays] of [[aSide, plan.net?.payer === 'a'], [bSide, plan.net?.payer === 'b']] as const) {
    const allocation = allocateOffset(side.items, plan.offset);
    if (plan.offset > 0) await settleOffset(client, side, allocation, id, now);
    if (pays) netPayoutIds = await payDifference(client, side, allocation, id);
  }
  const payer = plan.net === null ? null : plan.net.payer === 'a' ? a.workspaceId : b.workspaceId;
  let stored: SettlementRow | undefined;
  for (const workspaceId of [a.workspaceId, b.workspaceId]) {
    const { rows } = await client.query<SettlementRow>(
      `insert into partnership_settlements (workspace_id, id, partnership_id, a_workspace_id, b_workspace_id, currency, a_owes_b, b_owes_a, offset_amount, net_payer_workspace_id, net_amount, net_payout_id, net_payout_ids, settled_by_workspace_id, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) returning ${SETTLEMENT_COLUMNS}`,
      [workspaceId, id, partnershipId, a.workspaceId, b.workspaceId, a.currency, plan.aOwesB, plan.bOwesA, plan.offset, payer, plan.net?.amount ?? 0, netPayoutIds[0] ?? null, netPayoutIds, settledBy.workspaceId, now],
    );
    stored = rows[0]!;
  }
  const settlement = toSettlement(stored!);
  for (const workspaceId of [a.workspaceId, b.workspaceId]) {
    const data = { id, partnershipId, currency: settlement.currency, gross: settlement.gross, offset: settlement.offset, net: settlement.net };
    await emitEvent(client, { workspaceId, type: 'partnership.settled', data });
    await recordAudit(client, {
      workspaceId,
      // The other member's trail shows the settlement as something that happened to it, by that brand.
      actor: workspaceId === settledBy.workspaceId ? settledBy.actor : { kind: 'system', id: null },
      action: 'partnership.settled',
      target: { type: 'partnership', id: partnershipId },
      after: { settlementId: id, settledByWorkspaceId: settledBy.workspaceId, currency: a.currency, offset: plan.offset, net: settlement.net },
    });
  }
  return settlement;
}

export interface SettleInput {
  workspaceId: string;
  partnershipId: string;
  currency?: string | undefined;
  counterpartyWorkspaceId?: string | undefined;
  actor: AuditActor;
  now: Date;
}

/** Nets every pair the calling brand forms with another active member (or just the one named). */
export async function settlePartnership(client: pg.PoolClient, input: SettleInput) {
  // The partnership row lock serialises settlements of one partnership: a second call waits, then finds nothing left to net.
  const { ownerWorkspaceId, myStatus } = await locate(client, input.workspaceId, input.partnershipId, { lock: true });
  if (myStatus !== 'active') throw new ApiError('forbidden', 'Only brands that joined the partnership can settle it');
  const members: Member[] = (await membersOf(client, ownerWorkspaceId, input.partnershipId))
    .filter((m) => m.status === 'active' && m.program_id && m.program_currency)
    .map((m) => ({ workspaceId: m.workspace_id, programId: m.program_id!, currency: m.program_currency! }));
  const me = members.find((m) => m.workspaceId === input.workspaceId);
  if (!me) throw new ApiError('forbidden', 'Only brands that joined the partnership can settle it');
  if (input.currency !== undefined && input.currency !== me.currency) {
    throw new ApiError('unprocessable', `Your program in this partnership is in ${me.currency}`, [{ path: 'currency', message: `has nothing to settle: your side is in ${me.currency}` }]);
  }
  let others = members.filter((m) => m.workspaceId !== me.workspaceId);
  if (input.counterpartyWorkspaceId !== undefined) {
    others = others.filter((m) => m.workspaceId === input.counterpartyWorkspaceId);
    if (others.length === 0) throw new ApiError('unprocessable', 'No such member', [{ path: 'counterpartyWorkspaceId', message: 'is not another active member of this partnership' }]);
  }
  const data: PartnershipSettlement[] = [];
  const skipped: { counterpartyWorkspaceId: string; reason: 'currency_mismatch' | 'nothing_owed' }[] = [];
  for (const other of others.sort((x, y) => (x.workspaceId < y.workspaceId ? -1 : 1))) {
    if (other.currency !== me.currency) {
      skipped.push({ counterpartyWorkspaceId: other.workspaceId, reason: 'currency_mismatch' });
      continue;
    }
    const [a, b] = me.workspaceId < other.workspaceId ? [me, other] : [other, me];
    const settled = await settlePair(client, input.partnershipId, a, b, { workspaceId: input.workspaceId, actor: input.actor }, input.now);
    if (settled) data.push(settled);
    else skipped.push({ counterpartyWorkspaceId: other.workspaceId, reason: 'nothing_owed' });
  }
  return { data, skipped };
}

export async function listSettlements(db: Db, workspaceId: string, partnershipId: string, after: string | undefined, limit: number): Promise<PartnershipSettlement[]> {
  await locate(db, workspaceId, partnershipId);
  const { rows } = await db.query<SettlementRow>(
    `select ${SETTLEMENT_COLUMNS} from partnership_settlements where workspace_id = $1 and partnership_id = $2 and ($3::text is null or id < $3) order by id desc limit $4`,
    [workspaceId, partnershipId, after ?? null, limit + 1],
  );
  return rows.map(toSettlement);
}
