import type pg from 'pg';
import { rulesDocument, type RulesDocument } from '@tandem/contracts';
import { effectiveTermsVersion } from '@tandem/core';
import { partnerLocksSql } from '../../db/locks.js';

/*
 * Loading what the engine needs. The locks that order a program's reward events live in
 * db/locks.ts (tracking, disputes and payouts take them too).
 */

export interface ProgramContext {
  programId: string;
  currency: string;
  rulesVersion: number;
  rules: RulesDocument;
  termsVersion: number;
  termsCreatedAt: Date | null;
  termsGraceDays: number;
  payoutThreshold: number;
}

/** Rules versions are immutable, so parsed documents are cached for the life of the process. */
const rulesCache = new Map<string, RulesDocument>();

export async function rulesVersionOf(client: pg.PoolClient | pg.Pool, workspaceId: string, programId: string, version: number): Promise<RulesDocument | null> {
  const cacheKey = `${workspaceId}:${programId}:${version}`;
  const cached = rulesCache.get(cacheKey);
  if (cached) return cached;
  const { rows } = await client.query<{ rules: unknown }>('select rules from program_rules_versions where workspace_id = $1 and program_id = $2 and version = $3', [workspaceId, programId, version]);
  if (!rows[0]) return null;
  const rules = rulesDocument.parse(rows[0].rules);
  if (rulesCache.size > 10_000) rulesCache.clear();
  rulesCache.set(cacheKey, rules);
  return rules;
}

/** The program with its current rules; null when it has no rules version (nothing to earn). */
export async function loadProgramContext(client: pg.PoolClient | pg.Pool, workspaceId: string, programId: string): Promise<ProgramContext | null> {
  const { rows } = await client.query<{ currency: string; rules_version: number; terms_version: number; terms_grace_days: number; terms_created_at: Date | null; payout_threshold: number | null }>(
    `select p.currency, p.rules_version, p.terms_version, p.terms_grace_days, t.created_at as terms_created_at, p.payout_threshold
       from programs p left join program_terms_versions t on t.workspace_id = p.workspace_id and t.program_id = p.id and t.version = p.terms_version
      where p.workspace_id = $1 and p.id = $2`,
    [workspaceId, programId],
  );
  const program = rows[0];
  if (!program) return null;
  const rules = await rulesVersionOf(client, workspaceId, programId, program.rules_version);
  if (!rules) return null;
  return {
    programId,
    currency: program.currency,
    rulesVersion: program.rules_version,
    rules,
    // A version without terms text has nothing to accept: version 0.
    termsVersion: program.terms_created_at ? program.terms_version : 0,
    termsCreatedAt: program.terms_created_at,
    termsGraceDays: program.terms_grace_days,
    payoutThreshold: Number(program.payout_threshold ?? 0),
  };
}

export interface EnrollmentStanding {
  partnerId: string;
  status: string;
  tags: string[];
  couponCode: string | null;
  /** The terms version commissions are earned under now, or null when none (earns nothing). */
  termsVersion: number | null;
  /** Approved and within its terms: it earns. */
  earns: boolean;
}

export async function loadEnrollment(client: pg.PoolClient, workspaceId: string, program: ProgramContext, enrollmentId: string, now: Date): Promise<EnrollmentStanding | null> {
  const { rows } = await client.query<{ partner_id: string; status: string; tags: string[]; coupon_code: string | null; accepted_terms_version: number | null }>(
    'select partner_id, status, tags, coupon_code, accepted_terms_version from enrollments where workspace_id = $1 and id = $2',
    [workspaceId, enrollmentId],
  );
  const e = rows[0];
  if (!e) return null;
  return standingOf(program, e.partner_id, e.status, e.tags, e.coupon_code, e.accepted_terms_version, now);
}

/** The columns `programAndEnrollmentSql` selects. */
export interface ProgramAndEnrollmentRow {
  currency: string; rules_version: number; terms_version: number; terms_grace_days: number; terms_created_at: Date | string | null; payout_threshold: number | string | null;
  partner_id: string | null; status: string; tags: string[]; coupon_code: string | null; accepted_terms_version: number | null;
}

/**
 * The program with its current terms and one of its enrollments, for SQL text expressions of the
 * workspace, program and enrollment ids: the columns of {@link ProgramAndEnrollmentRow}.
 */
export function programAndEnrollmentSql(workspaceSql: string, programIdSql: string, enrollmentIdSql: string): { columns: string; from: string; where: string } {
  return {
    columns: `p.currency, p.rules_version, p.terms_version, p.terms_grace_days, t.created_at as terms_created_at, p.payout_threshold,
              e.partner_id, e.status, e.tags, e.coupon_code, e.accepted_terms_version`,
    from: `programs p
       left join program_terms_versions t on t.workspace_id = p.workspace_id and t.program_id = p.id and t.version = p.terms_version
       left join enrollments e on e.workspace_id = p.workspace_id and e.id = ${enrollmentIdSql}`,
    where: `p.workspace_id = ${workspaceSql} and p.id = ${programIdSql}`,
  };
}

/**
 * The program (with current rules) and the attributed enrollment in one round trip: the sale path
 * is the hot path of ingest.
 */
export async function loadProgramAndEnrollment(
  client: pg.PoolClient,
  workspaceId: string,
  programId: string,
  enrollmentId: string,
  now: Date,
  /** Also takes this partner's locks (see lockPartner) in the same round trip. */
  lockFor?: string,
): Promise<{ program: ProgramContext; enrollment: EnrollmentStanding } | null> {
  const { columns, from, where } = programAndEnrollmentSql('$1', '$2', '$3');
  // The lock columns are selected so that the planner can never drop the join that takes them.
  const { rows } = await client.query<ProgramAndEnrollmentRow>(
    `select ${columns}, locked.program_lock, locked.partner_lock
       from ${from}
       left join lateral (select ${partnerLocksSql('$1', '$2', '$4')} where $5::boolean) locked on true
      where ${where}`,
    [workspaceId, programId, enrollmentId, lockFor ?? '', lockFor !== undefined],
  );
  return rows[0] ? programAndEnrollmentFrom(client, workspaceId, programId, rows[0], now) : null;
}

/** A program and enrollment row (also as JSON, read along another statement) for the engine; null when it cannot earn. */
export async function programAndEnrollmentFrom(
  client: pg.PoolClient,
  workspaceId: string,
  programId: string,
  row: ProgramAndEnrollmentRow,
  now: Date,
): Promise<{ program: ProgramContext; enrollment: EnrollmentStanding } | null> {
  if (!row.partner_id) return null;
  const rules = await rulesVersionOf(client, workspaceId, programId, row.rules_version);
  if (!rules) return null;
  const termsCreatedAt = row.terms_created_at === null ? null : new Date(row.terms_created_at);
  const program: ProgramContext = {
    programId, currency: row.currency, rulesVersion: row.rules_version, rules,
    termsVersion: termsCreatedAt ? row.terms_version : 0, termsCreatedAt, termsGraceDays: row.terms_grace_days, payoutThreshold: Number(row.payout_threshold ?? 0),
  };
  return { program, enrollment: standingOf(program, row.partner_id, row.status, row.tags, row.coupon_code, row.accepted_terms_version, now) };
}

/** Whether an enrollment earns now: approved, and under terms it accepted (or within their grace period). */
export function enrollmentEarns(program: ProgramContext, status: string, acceptedTermsVersion: number | null, now: Date): boolean {
  return standingOf(program, '', status, [], null, acceptedTermsVersion, now).earns;
}

function standingOf(program: ProgramContext, partnerId: string, status: string, tags: string[], couponCode: string | null, acceptedTermsVersion: number | null, now: Date): EnrollmentStanding {
  const termsVersion =
    program.termsVersion === 0
      ? 0
      : effectiveTermsVersion({ acceptedVersion: acceptedTermsVersion, currentVersion: program.termsVersion, currentVersionCreatedAt: program.termsCreatedAt!, graceDays: program.termsGraceDays }, now);
  return { partnerId, status, tags, couponCode, termsVersion, earns: status === 'approved' && termsVersion !== null };
}

/** Appends an input of the engine to the program's reward event log (see schema.ts). */
export async function logRewardEvent(client: pg.PoolClient, workspaceId: string, programId: string, type: string, subject: string | null, payload: Record<string, unknown>): Promise<void> {
  await client.query('insert into reward_events (workspace_id, program_id, type, subject, payload) values ($1, $2, $3, $4, $5)', [workspaceId, programId, type, subject, JSON.stringify(payload)]);
}
