import type pg from 'pg';
import { newId, randomLinkKey } from '@tandem/core';

export interface SeededProgram {
  programId: string;
  partnerId: string;
  enrollmentId: string;
}

/**
 * A program with one enrolled partner, written straight to the tables: the links and redirect
 * tests need these rows, not the programs API (whose own tests cover it).
 */
export async function seedProgramWithPartner(
  pool: pg.Pool,
  workspaceId: string,
  options: { destinationUrl?: string; allowedDomains?: string[]; windowDays?: number; enrollmentStatus?: string } = {},
): Promise<SeededProgram> {
  const programId = newId('prg');
  const partnerId = newId('ptn');
  const enrollmentId = newId('enr');
  await pool.query(
    `insert into programs (workspace_id, id, name, slug, currency, destination_url, allowed_domains, attribution_window_days, status)
     values ($1, $2, 'Test program', $3, 'USD', $4, $5, $6, 'active')`,
    [
      workspaceId,
      programId,
      `prog-${randomLinkKey(10)}`,
      options.destinationUrl ?? 'https://shop.example.com/welcome',
      options.allowedDomains ?? [],
      options.windowDays ?? 30,
    ],
  );
  await addPartner(pool, workspaceId, programId, partnerId, enrollmentId, options.enrollmentStatus ?? 'approved');
  return { programId, partnerId, enrollmentId };
}

export async function addPartner(
  pool: pg.Pool,
  workspaceId: string,
  programId: string,
  partnerId = newId('ptn'),
  enrollmentId = newId('enr'),
  status = 'approved',
): Promise<string> {
  await pool.query(`insert into partners (workspace_id, id, email, name) values ($1, $2, $3, 'Pat Partner')`, [
    workspaceId,
    partnerId,
    `${partnerId}@example.com`,
  ]);
  await pool.query(`insert into enrollments (workspace_id, id, program_id, partner_id, status) values ($1, $2, $3, $4, $5)`, [
    workspaceId,
    enrollmentId,
    programId,
    partnerId,
    status,
  ]);
  return partnerId;
}
