import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { partnerAccount, type PartnerBucket } from '@tandem/core';
import { chainOf } from './post.js';
import { ENTRY_COLUMNS, toChained, type EntryRow } from './verify.js';

export interface StatementLine {
  seq: number;
  at: string;
  kind: string;
  ref: string | null;
  delta: Record<PartnerBucket, number>;
  balance: Record<PartnerBucket, number>;
  hash: string;
}
export interface Statement {
  partner: { id: string; name: string };
  program: { id: string; name: string; currency: string };
  lines: StatementLine[];
  /** The newest entry of the partner's chain: keep it to verify the ledger later. */
  head: { chain: string; seq: number; hash: string } | null;
}

/** The partner's chain in a program with running balances (liabilities shown positive). */
export async function partnerStatement(pool: pg.Pool, workspaceId: string, programId: string, partnerId: string): Promise<Statement> {
  const { rows } = await pool.query<{ partner_name: string | null; program_name: string; currency: string }>(
    `select (select name from partners where workspace_id = $1 and id = $3) as partner_name, name as program_name, currency from programs where workspace_id = $1 and id = $2`,
    [workspaceId, programId, partnerId],
  );
  if (!rows[0]) throw new ApiError('not_found', 'No such program', [{ path: 'programId', message: 'no program has this id' }]);
  if (rows[0].partner_name === null) throw new ApiError('not_found', 'No such partner');
  const chain = chainOf(programId, partnerId);
  const { rows: entryRows } = await pool.query<EntryRow>(`select ${ENTRY_COLUMNS} from ledger_entries where workspace_id = $1 and chain = $2 order by seq`, [workspaceId, chain]);
  const balance: Record<PartnerBucket, number> = { pending: 0, payable: 0, paid: 0 };
  const lines = entryRows.map(toChained).map((e) => {
    const delta: Record<PartnerBucket, number> = { pending: 0, payable: 0, paid: 0 };
    for (const bucket of ['pending', 'payable', 'paid'] as const) {
      const account = partnerAccount(programId, partnerId, bucket);
      delta[bucket] = -e.postings.filter((p) => p.account === account).reduce((s, p) => s + p.amount, 0) || 0;
      balance[bucket] += delta[bucket];
    }
    return { seq: e.seq, at: e.at, kind: e.kind, ref: e.ref, delta, balance: { ...balance }, hash: e.hash };
  });
  const last = lines[lines.length - 1];
  return {
    partner: { id: partnerId, name: rows[0].partner_name },
    program: { id: programId, name: rows[0].program_name, currency: rows[0].currency },
    lines,
    head: last ? { chain, seq: last.seq, hash: last.hash } : null,
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A self-contained printable page (print to PDF from the browser). */
export function statementHtml(s: Statement): string {
  const money = (n: number) => (n / 100).toFixed(2);
  const rows = s.lines
    .map((l) => `<tr><td>${l.seq}</td><td>${escapeHtml(l.at)}</td><td>${escapeHtml(l.kind)}</td><td>${escapeHtml(l.ref ?? '')}</td><td class="n">${money(l.delta.pending)}</td><td class="n">${money(l.delta.payable)}</td><td class="n">${money(l.delta.paid)}</td><td class="n">${money(l.balance.pending)}</td><td class="n">${money(l.balance.payable)}</td><td class="n">${money(l.balance.paid)}</td></tr>`)
    .join('\n');
  const head = s.head ? `<p class="head">Chain <code>${escapeHtml(s.head.chain)}</code>, entry ${s.head.seq}, head hash <code>${s.head.hash}</code></p>` : '<p class="head">No entries yet.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Statement — ${escapeHtml(s.partner.name)} — ${escapeHtml(s.program.name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left}.n{text-align:right;font-variant-numeric:tabular-nums}code{word-break:break-all}.head{margin-top:1.5rem}@media print{body{margin:0}}</style></head>
<body><h1>Statement</h1><p>${escapeHtml(s.partner.name)} (${escapeHtml(s.partner.id)}) in ${escapeHtml(s.program.name)} (${escapeHtml(s.program.id)}), amounts in ${escapeHtml(s.program.currency)}.</p>
<table><thead><tr><th>#</th><th>At</th><th>Entry</th><th>Reference</th><th class="n">Δ pending</th><th class="n">Δ payable</th><th class="n">Δ paid</th><th class="n">Pending</th><th class="n">Payable</th><th class="n">Paid</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${head}
<p>Keep this hash: the ledger's verification (<code>GET /api/v1/ledger/verify</code>) recomputes every entry's hash from the previous one, so any later edit or deletion of these entries changes the head.</p>
</body></html>`;
}
