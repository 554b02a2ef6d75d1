import type pg from 'pg';
import type { WelcomeKit } from '@tandem/contracts';
import { buildMilestones, renderICalendar } from '@tandem/core';
import { shortUrl } from '../links/create-link.js';
import { getEnrollmentRow } from '../partners/enrollments.js';
import { getProgramRow } from '../programs/programs.js';

type Db = pg.PoolClient | pg.Pool;

export interface PortalLinkRow {
  id: string;
  key: string;
  destination_url: string;
  is_default: boolean;
  partner_id: string;
  program_id: string;
}

/** The partner's live links in a program, default first. */
export async function linksOf(db: Db, workspaceId: string, programId: string, partnerId: string, baseUrl: string) {
  const { rows } = await db.query<PortalLinkRow>(
    `select id, key, destination_url, is_default, partner_id, program_id from links
      where workspace_id = $1 and program_id = $2 and partner_id = $3 and archived_at is null
      order by is_default desc, id`,
    [workspaceId, programId, partnerId],
  );
  return rows.map((l) => ({ id: l.id, key: l.key, shortUrl: shortUrl(baseUrl, l.key), destinationUrl: l.destination_url, isDefault: l.is_default }));
}

/**
 * Everything a new partner needs in one place. Milestones are generated from the program and the
 * approval time; "first link shared" is marked achieved at the partner's first click.
 */
export async function buildWelcomeKit(db: Db, workspaceId: string, enrollmentId: string, baseUrl: string, now: Date): Promise<WelcomeKit> {
  const enrollment = await getEnrollmentRow(db, workspaceId, enrollmentId);
  const program = await getProgramRow(db, workspaceId, enrollment.program_id);
  const brand = await db.query<{ name: string }>('select name from workspaces where workspace_id = $1', [workspaceId]);
  const firstClick = await db.query<{ at: Date | null }>(
    'select min(created_at) as at from clicks where workspace_id = $1 and program_id = $2 and partner_id = $3',
    [workspaceId, program.id, enrollment.partner_id],
  );
  const milestones = buildMilestones({
    programName: program.name,
    currency: program.currency,
    payoutThreshold: program.payout_threshold,
    holdDays: program.rules.qualification?.holdDays ?? 0,
    startsAt: enrollment.approved_at ?? now,
  }).map((m) => ({ ...m, achievedAt: m.kind === 'first_link_shared' ? (firstClick.rows[0]?.at?.toISOString() ?? null) : null }));
  return {
    enrollmentId: enrollment.id,
    partner: { id: enrollment.partner_id, name: enrollment.partner_name, email: enrollment.partner_email },
    program: {
      id: program.id,
      name: program.name,
      brand: brand.rows[0]?.name ?? '',
      currency: program.currency,
      destinationUrl: program.destination_url,
      attributionWindowDays: program.attribution_window_days,
      rules: program.rules,
      payoutThreshold: program.payout_threshold,
    },
    status: enrollment.status,
    couponCode: enrollment.coupon_code,
    links: await linksOf(db, workspaceId, program.id, enrollment.partner_id, baseUrl),
    terms: program.terms_text === null ? null : { version: program.terms_version, text: program.terms_text },
    assets: [],
    milestones,
  };
}

/** The kit's milestones as an iCalendar document; UIDs are stable so calendar apps update, not duplicate. */
export function milestoneCalendar(kit: WelcomeKit, now: Date): string {
  return renderICalendar({
    prodId: '-//Tandem//Partner milestones//EN',
    name: `${kit.program.name} milestones`,
    generatedAt: now,
    events: kit.milestones.map((m) => ({ uid: `${m.id}.${kit.enrollmentId}@tandem`, date: m.date, summary: m.title, description: m.description })),
  });
}
