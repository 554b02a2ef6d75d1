import type pg from 'pg';
import { chainEntry, GENESIS_HASH, isBalanced, newId, type Posting } from '@tandem/core';

/*
 * Appends a journal entry to the (program, partner) chain inside the caller's transaction. The
 * caller holds that partner's advisory lock (see rewards/locks.ts), so reading the head and
 * appending cannot race; the head row is also locked to keep the invariant if a caller forgets.
 */

export const chainOf = (programId: string, partnerId: string) => `${programId}:${partnerId}`;

export interface EntryInput {
  workspaceId: string;
  programId: string;
  partnerId: string;
  currency: string;
  kind: string;
  ref: string | null;
  at: Date;
  postings: Posting[];
}

/**
 * `knownHead` lets a caller that already read the chain head under the partner lock (the sale
 * path reads it with the rest of the partner's state) save a round trip; `null` = an empty chain.
 */
export async function postEntry(client: pg.PoolClient, input: EntryInput, knownHead?: { seq: number; hash: string } | null): Promise<{ id: string; hash: string } | null> {
  const postings = input.postings.filter((p) => p.amount !== 0);
  if (postings.length === 0) return null;
  if (!isBalanced({ currency: input.currency, postings })) throw new Error(`unbalanced journal entry ${input.kind} ${input.ref}`);
  const chain = chainOf(input.programId, input.partnerId);
  let head = knownHead;
  if (head === undefined) {
    const { rows } = await client.query<{ seq: number; hash: string }>('select seq, hash from ledger_heads where workspace_id = $1 and chain = $2 for update', [input.workspaceId, chain]);
    head = rows[0] ?? null;
  }
  const entry = chainEntry(head?.hash ?? GENESIS_HASH, {
    chain,
    seq: (head?.seq ?? 0) + 1,
    id: newId('jen'),
    at: input.at.toISOString(),
    kind: input.kind,
    ref: input.ref,
    currency: input.currency,
    postings,
  });
  const values: unknown[] = [input.workspaceId, entry.id, input.programId, input.partnerId];
  const lines = postings.map((p, i) => {
    values.push(i, p.account, p.amount);
    return `($1, $2, $${values.length - 2}, $3, $4, $${values.length - 1}, $${values.length})`;
  });
  await client.query(
    `with entry as (
       insert into ledger_entries (workspace_id, chain, seq, id, program_id, partner_id, at, kind, ref, currency, postings, prev_hash, hash)
       values ($1, $${values.length + 1}, $${values.length + 2}, $2, $3, $4, $${values.length + 3}, $${values.length + 4}, $${values.length + 5}, $${values.length + 6}, $${values.length + 7}, $${values.length + 8}, $${values.length + 9})
     ), head as (
       insert into ledger_heads (workspace_id, chain, seq, hash) values ($1, $${values.length + 1}, $${values.length + 2}, $${values.length + 9})
       on conflict (workspace_id, chain) do update set seq = excluded.seq, hash = excluded.hash, updated_at = now()
     )
     insert into ledger_postings (workspace_id, entry_id, line, program_id, partner_id, account, amount) values ${lines.join(', ')}`,
    [...values, chain, entry.seq, entry.at, entry.kind, entry.ref, entry.currency, JSON.stringify(entry.postings), entry.prevHash, entry.hash],
  );
  return { id: entry.id, hash: entry.hash };
}
