import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { partnerAccount } from '@tandem/core';

/**
 * A partner's balance in a program, summed from its postings (liabilities shown positive). There
 * is no stored counter that could drift from the journal.
 */
export async function partnerBalance(db: pg.Pool | pg.PoolClient, workspaceId: string, programId: string, partnerId: string): Promise<{ currency: string; pending: number; payable: number; paid: number }> {
  const { rows } = await db.query<{ currency: string; partner: boolean }>(
    `select p.currency, exists (select 1 from partners where workspace_id = $1 and id = $3) as partner from programs p where p.workspace_id = $1 and p.id = $2`,
    [workspaceId, programId, partnerId],
  );
  if (!rows[0]) throw new ApiError('not_found', 'No such program', [{ path: 'programId', message: 'no program has this id' }]);
  if (!rows[0].partner) throw new ApiError('not_found', 'No such partner');
  const { rows: sums } = await db.query<{ account: string; total: number }>(
    `select account, sum(amount) as total from ledger_postings where workspace_id = $1 and program_id = $2 and partner_id = $3 and account = any($4) group by account`,
    [workspaceId, programId, partnerId, ['pending', 'payable', 'paid'].map((b) => partnerAccount(programId, partnerId, b as 'pending'))],
  );
  const of = (bucket: 'pending' | 'payable' | 'paid') => -Number(sums.find((s) => s.account === partnerAccount(programId, partnerId, bucket))?.total ?? 0) || 0;
  return { currency: rows[0].currency, pending: of('pending'), payable: of('payable'), paid: of('paid') };
}
