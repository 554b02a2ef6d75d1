import type pg from 'pg';

/*
 * The locks that order a program's money events, as transaction-scoped advisory locks (they go
 * away with the transaction, whatever happens). Every event of partner P in program X takes X's
 * program lock shared and P's lock exclusive, so one partner's events are serialised (its cap,
 * tiers, balances and ledger chain are consistent) while different partners proceed in parallel;
 * the maturity run and payout creation take X's program lock exclusive, so they see a quiet program.
 *
 * Order matters. A conversion locks its customer's row first (the customer upsert) and P's locks
 * after it, never the reverse, and it never holds one partner's lock while taking another's (a
 * sale locks early only the partner it cannot fail to be attributed to: tracking/record.ts). A sale
 * takes P's lock before its final statement, whose trigger on `sales` then locks P's
 * `partner_sale_counts` row. Any path that changes an attributed sale row (a refund, a
 * dispute's re-attribution) must therefore take P's lock before it updates the row, or the two
 * wait for each other (measured: a refund and a sale of one partner deadlocked).
 */

/**
 * Advisory lock classes: (41, program key), (42, partner key). `loadProgramAndEnrollment`
 * (rewards/context.ts) and a coupon sale's first statement (tracking/record.ts) take them in SQL
 * too, through `partnerLocksSql`.
 */
export const PROGRAM_LOCK = 41;
export const PARTNER_LOCK = 42;

export const programKey = (workspaceId: string, programId: string) => `${workspaceId}:${programId}`;
export const partnerKey = (workspaceId: string, programId: string, partnerId: string) => `${workspaceId}:${programId}:${partnerId}`;

/**
 * Select-list expressions taking a partner's locks, program (shared) then partner (exclusive), as
 * `lockPartners` does, for SQL text expressions of the workspace, program and partner ids.
 */
export function partnerLocksSql(workspaceSql: string, programIdSql: string, partnerIdSql: string): string {
  const program = `${workspaceSql} || ':' || ${programIdSql}`;
  return `pg_advisory_xact_lock_shared(${PROGRAM_LOCK}, hashtext(${program})) as program_lock, pg_advisory_xact_lock(${PARTNER_LOCK}, hashtext(${program} || ':' || ${partnerIdSql})) as partner_lock`;
}

export async function lockPartner(client: pg.PoolClient, workspaceId: string, programId: string, partnerId: string): Promise<void> {
  await lockPartners(client, workspaceId, [{ programId, partnerId }]);
}

/**
 * Several partners' locks (e.g. the partner a sale leaves and the one it moves to) in one statement,
 * always in the same order — programs, then partners, each sorted; a select list runs left to right —
 * so two transactions locking overlapping sets never wait for each other in a cycle.
 */
export async function lockPartners(client: pg.PoolClient, workspaceId: string, partners: readonly { programId: string; partnerId: string }[]): Promise<void> {
  if (partners.length === 0) return;
  const programs = [...new Set(partners.map((p) => programKey(workspaceId, p.programId)))].sort();
  const keys = [...new Set(partners.map((p) => partnerKey(workspaceId, p.programId, p.partnerId)))].sort();
  const locks = [
    ...programs.map((_, i) => `pg_advisory_xact_lock_shared(${PROGRAM_LOCK}, hashtext($${i + 1}))`),
    ...keys.map((_, i) => `pg_advisory_xact_lock(${PARTNER_LOCK}, hashtext($${programs.length + i + 1}))`),
  ];
  await client.query(`select ${locks.join(', ')}`, [...programs, ...keys]);
}

export async function lockProgram(client: pg.PoolClient, workspaceId: string, programId: string): Promise<void> {
  await client.query(`select pg_advisory_xact_lock(${PROGRAM_LOCK}, hashtext($1))`, [programKey(workspaceId, programId)]);
}
