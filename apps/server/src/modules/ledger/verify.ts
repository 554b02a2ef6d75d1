import type pg from 'pg';
import { ChainVerifier, type ChainedEntry, type ChainProblem } from '@tandem/core';
import { withTransaction } from '../../db/tx.js';
import { chainOf } from './post.js';

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

/** Entries read per round trip while verifying. */
const VERIFY_PAGE = 2000;

/**
 * Recomputes every chain of the workspace against the stored heads, and checks that the
 * `ledger_postings` rows (what balances are summed from) equal each entry's hashed postings.
 * Entries stream in pages in (chain, seq) order — the primary key's — through a ChainVerifier that
 * keeps one link per chain, so memory stays flat however large the ledger grows.
 *
 * Every read is made in one read-only repeatable-read transaction: one snapshot, so entries posted
 * while a verification pages through the ledger are neither half-seen nor reported as a head that
 * does not match its chain (the heads are read in the same snapshot as the entries).
 */
export async function verifyLedger(pool: pg.Pool, workspaceId: string, pageSize = VERIFY_PAGE, afterPage?: () => Promise<void>) {
  return withTransaction(pool, async (client) => {
    await client.query('set transaction isolation level repeatable read, read only');
    return verifyInSnapshot(client, workspaceId, pageSize, afterPage);
  });
}

async function verifyInSnapshot(client: pg.PoolClient, workspaceId: string, pageSize: number, afterPage?: () => Promise<void>) {
  const { rows: headRows } = await client.query<{ chain: string; seq: number; hash: string }>('select chain, seq, hash from ledger_heads where workspace_id = $1', [workspaceId]);
  const verifier = new ChainVerifier(new Map(headRows.map((h) => [h.chain, { seq: h.seq, hash: h.hash }])));
  let entries = 0;
  let newest: { id: string; hash: string } | null = null;
  let after: { chain: string; seq: number } | null = null;
  for (;;) {
    const page: pg.QueryResult<EntryRow> = await client.query<EntryRow>(
      `select ${ENTRY_COLUMNS} from ledger_entries
        where workspace_id = $1 and ($2::text is null or (chain, seq) > ($2, $3::int))
        order by chain, seq limit $4`,
      [workspaceId, after?.chain ?? null, after?.seq ?? 0, pageSize],
    );
    const rows = page.rows;
    for (const row of rows) {
      verifier.add(toChained(row));
      entries += 1;
      if (!newest || row.id > newest.id) newest = { id: row.id, hash: row.hash };
    }
    if (rows.length < pageSize) break;
    const last: EntryRow = rows[rows.length - 1]!;
    after = { chain: last.chain, seq: last.seq };
    await afterPage?.();
  }
  const result = verifier.finish();
  const problems = [...result.problems, ...(await postingProblems(client, workspaceId, null))];
  return { ok: problems.length === 0, entries, head: newest?.hash ?? null, chains: headRows.length, problems };
}

/**
 * What the chain's hashes cannot see: balances are sums of `ledger_postings` rows, so each row must
 * be exactly a line of its hashed entry — the same account and amount, in order, and the same
 * program and partner as the entry's chain names — and no row may stand without an entry (of its
 * own chain, when one chain is checked). The workspace's chains, or only `chain`.
 */
export async function postingProblems(db: pg.PoolClient | pg.Pool, workspaceId: string, chain: string | null): Promise<ChainProblem[]> {
  const { rows: mismatched } = await db.query<{ chain: string; seq: number }>(
    `select e.chain, e.seq from ledger_entries e
      where e.workspace_id = $1 and ($2::text is null or e.chain = $2) and (
        e.chain <> e.program_id || ':' || e.partner_id
        or (select coalesce(jsonb_agg(jsonb_build_object('account', p.account, 'amount', p.amount) order by p.line), '[]'::jsonb)
              from ledger_postings p where p.workspace_id = e.workspace_id and p.entry_id = e.id) <> e.postings
        or exists (select 1 from ledger_postings p where p.workspace_id = e.workspace_id and p.entry_id = e.id
                      and (p.program_id <> e.program_id or p.partner_id <> e.partner_id)))
      limit 1000`,
    [workspaceId, chain],
  );
  // A posting row of no entry at all (inserted, or left by a deleted entry) counts in a balance too.
  const { rows: orphans } = await db.query<{ program_id: string; partner_id: string }>(
    `select p.program_id, p.partner_id from ledger_postings p
      where p.workspace_id = $1 and ($2::text is null or p.program_id || ':' || p.partner_id = $2)
        and not exists (select 1 from ledger_entries e where e.workspace_id = p.workspace_id and e.id = p.entry_id and ($2::text is null or e.chain = $2))
      group by 1, 2 limit 1000`,
    [workspaceId, chain],
  );
  return [
    ...mismatched.map((m) => ({ chain: m.chain, seq: m.seq, problem: 'hash_mismatch' as const })),
    ...orphans.map((o) => ({ chain: chainOf(o.program_id, o.partner_id), seq: 0, problem: 'orphan_posting' as const })),
  ];
}
