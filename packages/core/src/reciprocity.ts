/*
 * The balance of a reciprocal partnership: what each brand sent the other and who owes whom.
 * A direction from A to B is A acting as B's partner: A's traffic to B, for which B owes A
 * commissions. Money is netted per pair of brands and per currency, never across currencies.
 */

export interface Direction {
  fromWorkspaceId: string;
  toWorkspaceId: string;
  clicks: number;
  referrals: number;
  /** Minor units, in `currency`. */
  revenue: number;
  /** Minor units earned by `from` from `to` (lifetime, net of reversals), in `currency`. */
  commissions: number;
  /** Minor units `to` still owes `from`: earned, not yet paid nor settled by netting. */
  outstanding: number;
  currency: string;
}

export interface NetAmount {
  /** The brand that owes the other the difference; null when they are even. */
  owedByWorkspaceId: string | null;
  owedToWorkspaceId: string | null;
  amount: number;
  currency: string;
}

export interface ReciprocityCheck {
  workspaceIds: [string, string];
  /** How far the two traffic flows (clicks) are apart, as a percentage of the larger one. */
  imbalancePct: number;
  withinTarget: boolean | null;
}

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** Nets the commissions both ways between each pair of brands, one result per pair and currency. */
export function netBalances(directions: readonly Direction[]): NetAmount[] {
  const totals = new Map<string, { a: string; b: string; currency: string; owedToA: number }>();
  for (const d of directions) {
    const [a, b] = d.fromWorkspaceId < d.toWorkspaceId ? [d.fromWorkspaceId, d.toWorkspaceId] : [d.toWorkspaceId, d.fromWorkspaceId];
    const key = `${pairKey(a, b)}|${d.currency}`;
    const entry = totals.get(key) ?? { a, b, currency: d.currency, owedToA: 0 };
    // `to` owes `from` what is outstanding in this direction (paid and netted amounts are settled).
    entry.owedToA += d.fromWorkspaceId === a ? d.outstanding : -d.outstanding;
    totals.set(key, entry);
  }
  return [...totals.values()].map((t) => {
    if (t.owedToA === 0) return { owedByWorkspaceId: null, owedToWorkspaceId: null, amount: 0, currency: t.currency };
    return t.owedToA > 0
      ? { owedByWorkspaceId: t.b, owedToWorkspaceId: t.a, amount: t.owedToA, currency: t.currency }
      : { owedByWorkspaceId: t.a, owedToWorkspaceId: t.b, amount: -t.owedToA, currency: t.currency };
  });
}

/** Checks each pair's traffic against a reciprocity target such as "balanced within ±20 %". */
export function reciprocityChecks(directions: readonly Direction[], targetPct: number | null): ReciprocityCheck[] {
  const pairs = new Map<string, { ids: [string, string]; flows: Map<string, number> }>();
  for (const d of directions) {
    const ids: [string, string] = d.fromWorkspaceId < d.toWorkspaceId ? [d.fromWorkspaceId, d.toWorkspaceId] : [d.toWorkspaceId, d.fromWorkspaceId];
    const entry = pairs.get(pairKey(...ids)) ?? { ids, flows: new Map<string, number>() };
    entry.flows.set(d.fromWorkspaceId, (entry.flows.get(d.fromWorkspaceId) ?? 0) + d.clicks);
    pairs.set(pairKey(...ids), entry);
  }
  return [...pairs.values()].map(({ ids, flows }) => {
    const a = flows.get(ids[0]) ?? 0;
    const b = flows.get(ids[1]) ?? 0;
    const larger = Math.max(a, b);
    const imbalancePct = larger === 0 ? 0 : Math.round((Math.abs(a - b) / larger) * 10_000) / 100;
    return { workspaceIds: ids, imbalancePct, withinTarget: targetPct === null ? null : imbalancePct <= targetPct };
  });
}

export * from './reciprocity-netting.js';
