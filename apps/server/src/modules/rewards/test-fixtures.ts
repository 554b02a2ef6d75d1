import type pg from 'pg';
import { insertPartner, insertProgram, type PartnerFixture, type ProgramFixture } from '../tracking/test-fixtures.js';

/** A program with a rules document as version 1 (tracking's fixture writes the program row only). */
export async function insertProgramWithRules(pool: pg.Pool, workspaceId: string, rules: unknown, opts: { currency?: string } = {}): Promise<ProgramFixture> {
  const program = await insertProgram(pool, workspaceId, { currency: opts.currency ?? 'USD', windowDays: 3650 });
  await pool.query('insert into program_rules_versions (workspace_id, program_id, version, rules) values ($1, $2, 1, $3)', [workspaceId, program.programId, JSON.stringify(rules)]);
  return program;
}

export async function insertPartnerWithTags(pool: pg.Pool, program: ProgramFixture, tags: string[] = [], status = 'approved'): Promise<PartnerFixture> {
  const partner = await insertPartner(pool, program, { status });
  if (tags.length) await pool.query('update enrollments set tags = $3 where workspace_id = $1 and id = $2', [program.workspaceId, partner.enrollmentId, tags]);
  return partner;
}
