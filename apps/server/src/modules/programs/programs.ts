import type pg from 'pg';
import { LINKS_CHANNEL } from '../links/notify.js';
import { ApiError, type ApprovalConfig, type CreateProgramBody, type Program, type RulesDocument, type UpdateProgramBody } from '@tandem/contracts';
import { canChangeProgramStatus, newId, normaliseDomain, slugify, type ProgramStatus } from '@tandem/core';
import { isUniqueViolation } from '../../db/tx.js';

export interface ProgramRow {
  workspace_id: string;
  id: string;
  name: string;
  slug: string;
  currency: string;
  status: ProgramStatus;
  destination_url: string;
  allowed_domains: string[];
  attribution_window_days: number;
  attribution_model: 'last_touch' | 'first_touch';
  approval: ApprovalConfig;
  rules_version: number;
  terms_version: number;
  terms_grace_days: number;
  payout_threshold: number;
  created_at: Date;
  updated_at: Date;
  rules: RulesDocument;
  terms_text: string | null;
  terms_created_at: Date | null;
}

type Db = pg.PoolClient | pg.Pool;

/** The program with its current rules document and terms text joined in. */
const SELECT_PROGRAM = `
  select p.*, r.rules, t.text as terms_text, t.created_at as terms_created_at
    from programs p
    join program_rules_versions r on r.workspace_id = p.workspace_id and r.program_id = p.id and r.version = p.rules_version
    left join program_terms_versions t on t.workspace_id = p.workspace_id and t.program_id = p.id and t.version = p.terms_version`;

export function toProgram(row: ProgramRow): Program {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    currency: row.currency,
    status: row.status,
    destinationUrl: row.destination_url,
    allowedDomains: row.allowed_domains,
    attribution: { windowDays: row.attribution_window_days, model: row.attribution_model },
    rules: row.rules,
    rulesVersion: row.rules_version,
    terms: row.terms_text === null ? null : { text: row.terms_text, version: row.terms_version },
    termsVersion: row.terms_version,
    termsGraceDays: row.terms_grace_days,
    approval: row.approval,
    payoutThreshold: row.payout_threshold,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The caller's program, optionally locked for update; another workspace's program is simply not found. */
export async function getProgramRow(db: Db, workspaceId: string, programId: string, options: { lock?: boolean } = {}): Promise<ProgramRow> {
  const { rows } = await db.query<ProgramRow>(`${SELECT_PROGRAM} where p.workspace_id = $1 and p.id = $2${options.lock ? ' for update of p' : ''}`, [workspaceId, programId]);
  if (!rows[0]) throw new ApiError('not_found', 'Program not found');
  return rows[0];
}

export async function getProgramRowBySlug(db: Db, slug: string): Promise<ProgramRow> {
  const { rows } = await db.query<ProgramRow>(`${SELECT_PROGRAM} where p.slug = $1`, [slug]);
  if (!rows[0]) throw new ApiError('not_found', 'Program not found');
  return rows[0];
}

export async function listProgramRows(db: Db, workspaceId: string, options: { after?: string; limit: number; status?: ProgramStatus }): Promise<ProgramRow[]> {
  const { rows } = await db.query<ProgramRow>(
    `${SELECT_PROGRAM} where p.workspace_id = $1 and ($2::text is null or p.id < $2) and ($3::text is null or p.status = $3)
      order by p.id desc limit $4`,
    [workspaceId, options.after ?? null, options.status ?? null, options.limit + 1],
  );
  return rows;
}

/** Council reviewers must be people of the workspace; a typo would leave a council unable to reach quorum. */
async function checkReviewers(db: Db, workspaceId: string, approval: ApprovalConfig | undefined, path: string): Promise<void> {
  const reviewers = approval?.reviewers ?? [];
  if (reviewers.length === 0) return;
  // `for share`: a member's removal (which locks the workspace's memberships) cannot slip in between
  // this check and the commit of a council naming them (see assertCouncilsKeepAReviewer). Rows are
  // locked in user_id order, as the removal locks them, so the two cannot deadlock.
  const { rows } = await db.query<{ user_id: string }>('select user_id from memberships where workspace_id = $1 and user_id = any($2) order by user_id for share', [workspaceId, reviewers]);
  const members = new Set(rows.map((r) => r.user_id));
  const details = reviewers.flatMap((id, i) => (members.has(id) ? [] : [{ path: `${path}.reviewers.${i}`, message: 'is not a member of this workspace' }]));
  if (details.length > 0) throw new ApiError('unprocessable', 'Every council reviewer must be a member of the workspace', details);
}

/** Free slug for a program name: `summer-deals`, then `summer-deals-2`, … (globally unique). */
async function freeProgramSlug(db: Db, name: string): Promise<string> {
  const slug = slugify(name);
  // slugify falls back to 'workspace' for names without letters or digits; a program says 'program'.
  const base = slug === 'workspace' && !/workspace/i.test(name) ? 'program' : slug;
  const { rows } = await db.query<{ slug: string }>('select slug from programs where slug = $1 or slug like $2', [base, `${base}-%`]);
  const taken = new Set(rows.map((r) => r.slug));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

const duplicateSlug = (slug: string) => new ApiError('conflict', `The program slug '${slug}' is taken`, [{ path: 'slug', message: 'is taken' }]);

/** Inserts the program and version 1 of its rules (and terms) in the caller's transaction. */
export async function createProgram(client: pg.PoolClient, workspaceId: string, actorId: string | null, input: CreateProgramBody, now: Date): Promise<ProgramRow> {
  await checkReviewers(client, workspaceId, input.approval, 'approval');
  const id = newId('prg');
  const domains = [...new Set((input.allowedDomains ?? []).map(normaliseDomain))];
  for (let attempt = 0; ; attempt++) {
    const slug = input.slug ?? (await freeProgramSlug(client, input.name));
    try {
      await client.query('savepoint program_slug');
      await client.query(
        `insert into programs (workspace_id, id, name, slug, currency, destination_url, allowed_domains, attribution_window_days,
           attribution_model, approval, status, terms_grace_days, payout_threshold, rules_version, terms_version, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $15, $15)`,
        [
          workspaceId, id, input.name, slug, input.currency, input.destinationUrl, domains,
          input.attribution?.windowDays ?? 30, input.attribution?.model ?? 'last_touch',
          JSON.stringify(input.approval ?? { mode: 'manual' }), input.status ?? 'draft',
          input.termsGraceDays ?? 14, input.payoutThreshold ?? 5000, input.terms ? 1 : 0, now,
        ],
      );
      await client.query('release savepoint program_slug');
      break;
    } catch (error) {
      await client.query('rollback to savepoint program_slug');
      if (!isUniqueViolation(error, 'programs_slug_key')) throw error;
      if (input.slug !== undefined) throw duplicateSlug(input.slug);
      if (attempt > 5) throw error;
    }
  }
  await client.query('insert into program_rules_versions (workspace_id, program_id, version, rules, created_by, created_at) values ($1, $2, 1, $3, $4, $5)', [workspaceId, id, JSON.stringify(input.rules ?? {}), actorId, now]);
  if (input.terms) {
    await client.query('insert into program_terms_versions (workspace_id, program_id, version, text, created_by, created_at) values ($1, $2, 1, $3, $4, $5)', [workspaceId, id, input.terms.text, actorId, now]);
  }
  return getProgramRow(client, workspaceId, id);
}

/**
 * Applies a PATCH in the caller's transaction. A different rules document or terms text becomes a
 * new immutable version (the old ones stay readable); the same content is not a new version.
 */
export async function updateProgram(client: pg.PoolClient, workspaceId: string, programId: string, actorId: string | null, input: UpdateProgramBody, now: Date): Promise<{ before: ProgramRow; after: ProgramRow }> {
  const before = await getProgramRow(client, workspaceId, programId, { lock: true });
  if (input.status && !canChangeProgramStatus(before.status, input.status)) {
    throw new ApiError('unprocessable', `A ${before.status} program cannot become ${input.status}`, [{ path: 'status', message: `cannot change from ${before.status} to ${input.status}` }]);
  }
  // Leaving the workspace is not refused for a draft's reviewers (the draft decides nothing yet), so
  // going live checks the council it keeps as if it were set now.
  const goesLive = before.status === 'draft' && input.status === 'active';
  await checkReviewers(client, workspaceId, input.approval ?? (goesLive ? before.approval : undefined), 'approval');
  let rulesVersion = before.rules_version;
  if (input.rules && JSON.stringify(input.rules) !== JSON.stringify(before.rules)) {
    rulesVersion += 1;
    await client.query('insert into program_rules_versions (workspace_id, program_id, version, rules, created_by, created_at) values ($1, $2, $3, $4, $5, $6)', [workspaceId, programId, rulesVersion, JSON.stringify(input.rules), actorId, now]);
  }
  let termsVersion = before.terms_version;
  if (input.terms && input.terms.text !== before.terms_text) {
    termsVersion += 1;
    await client.query('insert into program_terms_versions (workspace_id, program_id, version, text, created_by, created_at) values ($1, $2, $3, $4, $5, $6)', [workspaceId, programId, termsVersion, input.terms.text, actorId, now]);
  }
  try {
    await client.query('savepoint program_update');
    await client.query(
      `update programs set name = $3, slug = $4, destination_url = $5, allowed_domains = $6, attribution_window_days = $7,
         attribution_model = $8, approval = $9, status = $10, terms_grace_days = $11, payout_threshold = $12,
         rules_version = $13, terms_version = $14, updated_at = $15
       where workspace_id = $1 and id = $2`,
      [
        workspaceId, programId, input.name ?? before.name, input.slug ?? before.slug, input.destinationUrl ?? before.destination_url,
        input.allowedDomains ? [...new Set(input.allowedDomains.map(normaliseDomain))] : before.allowed_domains,
        input.attribution?.windowDays ?? before.attribution_window_days, input.attribution?.model ?? before.attribution_model,
        JSON.stringify(input.approval ?? before.approval), input.status ?? before.status, input.termsGraceDays ?? before.terms_grace_days,
        input.payoutThreshold ?? before.payout_threshold, rulesVersion, termsVersion, now,
      ],
    );
    await client.query('release savepoint program_update');
  } catch (error) {
    await client.query('rollback to savepoint program_update');
    if (isUniqueViolation(error, 'programs_slug_key') && input.slug) throw duplicateSlug(input.slug);
    throw error;
  }
  const after = await getProgramRow(client, workspaceId, programId);
  // Redirect caches hold each link with its program's window (the cookie's lifetime): tell every
  // node now rather than at its next poll. Delivered only if this transaction commits.
  if (after.attribution_window_days !== before.attribution_window_days) {
    await client.query(`select pg_notify($3, key) from links where workspace_id = $1 and program_id = $2`, [workspaceId, programId, LINKS_CHANNEL]);
  }
  return { before, after };
}
