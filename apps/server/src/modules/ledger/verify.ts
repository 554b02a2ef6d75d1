import type pg from 'pg';
import { verifyChains, type ChainedEntry } from '@tandem/core';

interface EntryRow {
  chain: string;
  seq: number;
  id: string;
  at: Date;
  kind: string;
  ref: string | null;
  currency: string;
  postings: ChainedEntry['postings'];
  prev_hash: string;
  hash: string;
}

export const toChained = (r: EntryRow): ChainedEntry => ({ chain: r.chain, seq: r.seq, id: r.id, at: r.at.toISOString(), kind: r.kind, ref: r.ref, currency: r.currency, postings: r.postings, prevHash: r.prev_hash, hash: r.hash });
export const ENTRY_COLUMNS = 'chain, seq, id, at, kind, ref, currency, postings, prev_hash, hash';
export type { EntryRow };

/**
 * Recomputes every chain of the workspace against the stored heads, and checks that the
 * `ledger_postings` rows (what balances are summed from) equal each entry's hashed postings.
 */
export async function verifyLedger(pool: pg.Pool, workspaceId: string) {
  const { rows } = await pool.query<EntryRow>(`select ${ENTRY_COLUMNS} from ledger_entries where workspace_id = $1`, [workspaceId]);
  const { rows: headRows } = await pool.query<{ chain: string; seq: number; hash: string }>('select chain, seq, hash from ledger_heads where workspace_id = $1', [workspaceId]);
  const entries = rows.map(toChained);
  const result = verifyChains(entries, new Map(headRows.map((h) => [h.chain, { seq: h.seq, hash: h.hash }])));
  const { rows: mismatched } = await pool.query<{ chain: string; seq: number }>(
    `select e.chain, e.seq from ledger_entries e
      where e.workspace_id = $1 and (
        select coalesce(jsonb_agg(jsonb_build_object('account', p.account, 'amount', p.amount) order by p.line), '[]'::jsonb)
          from ledger_postings p where p.workspace_id = e.workspace_id and p.entry_id = e.id) <> e.postings`,
    [workspaceId],
  );
  const problems = [...result.problems, ...mismatched.map((m) => ({ chain: m.chain, seq: m.seq, problem: 'hash_mismatch' as const }))];
  const newest = [...entries].sort((a, b) => (a.id < b.id ? 1 : -1))[0];
  return { ok: problems.length === 0, entries: entries.length, head: newest?.hash ?? null, chains: headRows.length, problems };
}
