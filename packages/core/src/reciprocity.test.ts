import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { netBalances, reciprocityChecks, type Direction } from './reciprocity.js';

// Outstanding equals lifetime commissions here (nothing paid yet); the settled case is tested below.
const d = (from: string, to: string, commissions: number, clicks = 0, currency = 'USD', outstanding = commissions): Direction => ({ fromWorkspaceId: from, toWorkspaceId: to, clicks, referrals: 0, revenue: 0, commissions, outstanding, currency });

describe('netBalances', () => {
  it('nets both directions: the brand owing more owes the difference', () => {
    expect(netBalances([d('ws_a', 'ws_b', 1000), d('ws_b', 'ws_a', 300)])).toEqual([{ owedByWorkspaceId: 'ws_b', owedToWorkspaceId: 'ws_a', amount: 700, currency: 'USD' }]);
    expect(netBalances([d('ws_b', 'ws_a', 1000), d('ws_a', 'ws_b', 300)])).toEqual([{ owedByWorkspaceId: 'ws_a', owedToWorkspaceId: 'ws_b', amount: 700, currency: 'USD' }]);
  });
  it('nets what is outstanding, not what was ever earned: paid and netted amounts are settled', () => {
    expect(netBalances([d('ws_a', 'ws_b', 12_000, 0, 'USD', 7_000), d('ws_b', 'ws_a', 5_000, 0, 'USD', 0)])).toEqual([{ owedByWorkspaceId: 'ws_b', owedToWorkspaceId: 'ws_a', amount: 7_000, currency: 'USD' }]);
    expect(netBalances([d('ws_a', 'ws_b', 12_000, 0, 'USD', 0), d('ws_b', 'ws_a', 5_000, 0, 'USD', 0)])).toEqual([{ owedByWorkspaceId: null, owedToWorkspaceId: null, amount: 0, currency: 'USD' }]);
  });
  it('reports an even balance with nobody owing', () => {
    expect(netBalances([d('ws_a', 'ws_b', 0), d('ws_b', 'ws_a', 0)])).toEqual([{ owedByWorkspaceId: null, owedToWorkspaceId: null, amount: 0, currency: 'USD' }]);
  });
  it('never nets across currencies', () => {
    expect(netBalances([d('ws_a', 'ws_b', 500, 0, 'USD'), d('ws_b', 'ws_a', 500, 0, 'EUR')])).toHaveLength(2);
  });
  it('conserves money: what is owed equals the difference of the two flows', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000_000), fc.nat(1_000_000_000), (ab, ba) => {
        const [net] = netBalances([d('ws_a', 'ws_b', ab), d('ws_b', 'ws_a', ba)]);
        const signed = net!.owedByWorkspaceId === 'ws_b' ? net!.amount : net!.owedByWorkspaceId === 'ws_a' ? -net!.amount : 0;
        expect(signed).toBe(ab - ba);
        expect(net!.owedByWorkspaceId === null).toBe(ab === ba);
        expect(Number.isInteger(net!.amount)).toBe(true);
      }),
    );
  });
});

describe('reciprocityChecks', () => {
  it('measures how far the traffic flows are apart against the target', () => {
    expect(reciprocityChecks([d('ws_a', 'ws_b', 0, 100), d('ws_b', 'ws_a', 0, 85)], 20)).toEqual([{ workspaceIds: ['ws_a', 'ws_b'], imbalancePct: 15, withinTarget: true }]);
    expect(reciprocityChecks([d('ws_a', 'ws_b', 0, 100), d('ws_b', 'ws_a', 0, 50)], 20)[0]!.withinTarget).toBe(false);
    expect(reciprocityChecks([d('ws_a', 'ws_b', 0, 0), d('ws_b', 'ws_a', 0, 0)], null)[0]).toMatchObject({ imbalancePct: 0, withinTarget: null });
  });
});
