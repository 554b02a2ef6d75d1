import type pg from 'pg';
import { clickIdFromUuid, newId, uuidv7 } from '@tandem/core';

/*
 * Test fixtures for conversion tracking: programs, partners, enrollments and clicks written
 * straight into their tables, so these tests depend only on the shared schema.
 */

export interface ProgramFixture {
  programId: string;
  workspaceId: string;
}

export async function insertProgram(
  pool: pg.Pool,
  workspaceId: string,
  opts: { windowDays?: number; model?: 'first_touch' | 'last_touch'; currency?: string; rules?: object } = {},
): Promise<ProgramFixture> {
  const programId = newId('prg');
  await pool.query(
    `insert into programs (workspace_id, id, name, slug, currency, destination_url, attribution_window_days, attribution_model, status)
     values ($1, $2, 'Test program', $3, $4, 'https://brand.example/', $5, $6, 'active')`,
    [workspaceId, programId, `p-${programId}`, opts.currency ?? 'USD', opts.windowDays ?? 30, opts.model ?? 'last_touch'],
  );
  if (opts.rules) {
    await pool.query('insert into program_rules_versions (workspace_id, program_id, version, rules) values ($1, $2, 1, $3)', [
      workspaceId,
      programId,
      JSON.stringify(opts.rules),
    ]);
  }
  return { programId, workspaceId };
}

export interface PartnerFixture {
  partnerId: string;
  enrollmentId: string;
  couponCode: string;
  linkId: string;
}

export async function insertPartner(pool: pg.Pool, program: ProgramFixture, opts: { status?: string } = {}): Promise<PartnerFixture> {
  const partnerId = newId('ptn');
  const enrollmentId = newId('enr');
  const couponCode = `CODE${partnerId.slice(-8).toUpperCase()}`;
  await pool.query(`insert into partners (workspace_id, id, email, name) values ($1, $2, $3, 'Partner')`, [
    program.workspaceId,
    partnerId,
    `${partnerId}@partners.example`,
  ]);
  await pool.query(
    `insert into enrollments (workspace_id, id, program_id, partner_id, status, coupon_code) values ($1, $2, $3, $4, $5, $6)`,
    [program.workspaceId, enrollmentId, program.programId, partnerId, opts.status ?? 'approved', couponCode],
  );
  return { partnerId, enrollmentId, couponCode, linkId: newId('lnk') };
}

/** A click as the redirect would have recorded it at `at`; returns its public id. */
export async function insertClick(pool: pg.Pool, program: ProgramFixture, partner: PartnerFixture, at: Date): Promise<string> {
  const uuid = uuidv7(at.getTime());
  await pool.query(`insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at) values ($1, $2, $3, $4, $5, $6)`, [
    program.workspaceId,
    uuid,
    partner.linkId,
    program.programId,
    partner.partnerId,
    at,
  ]);
  return clickIdFromUuid(uuid);
}
