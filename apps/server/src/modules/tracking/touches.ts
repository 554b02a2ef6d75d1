import type pg from 'pg';
import { clickTime, uuidFromClickId, type AttributionModel, type Touch } from '@tandem/core';

/*
 * The shell around the pure attribution decision: turns a click id or coupon code into a Touch
 * (program, partner, enrollment, time, the program's window and model).
 *
 * Clicks are written in batches by the redirect (≤ 100 ms per batch, on whichever node served
 * the click), so a conversion that follows its click within milliseconds may reach us before the
 * click row exists. The click's time is in its id (UUIDv7), so when the id is fresh we poll the
 * table for a short while instead of attributing it as unknown; older ids that are not there
 * will never appear (or belong to another workspace) and are answered at once.
 */

export const FRESH_CLICK_WAIT_MS = 400;
const POLL_EVERY_MS = 40;

export interface ResolvedTouches {
  touches: Touch[];
  /** What each given id/code turned into, for the customer's touch history. */
  notes: { key: string; via: 'click' | 'coupon'; programId: string | null; partnerId: string | null; at: Date; known: boolean }[];
  /** Enrollment status of each touched enrollment: only `approved` earns. */
  enrollmentStatus: Map<string, string>;
}

interface ProgramRow {
  program_id: string;
  partner_id: string;
  enrollment_id: string;
  enrollment_status: string;
  window_days: number;
  model: AttributionModel;
}

const ENROLLMENT_WITH_PROGRAM = `
  select e.program_id, e.partner_id, e.id as enrollment_id, e.status as enrollment_status,
         p.attribution_window_days as window_days, p.attribution_model as model
    from enrollments e join programs p on p.workspace_id = e.workspace_id and p.id = e.program_id
   where e.workspace_id = $1`;

async function findClick(db: pg.Pool | pg.PoolClient, workspaceId: string, uuid: string) {
  const { rows } = await db.query<{ program_id: string; partner_id: string; created_at: Date }>(
    'select program_id, partner_id, created_at from clicks where workspace_id = $1 and id = $2',
    [workspaceId, uuid],
  );
  return rows[0] ?? null;
}

/** Adds a touch of the enrollment `row` to `out`, with the enrollment's status. */
function addTouch(out: ResolvedTouches, row: ProgramRow, via: 'click' | 'coupon', clickId: string | null, at: number): void {
  out.touches.push({ via, clickId, programId: row.program_id, partnerId: row.partner_id, enrollmentId: row.enrollment_id, at, windowDays: row.window_days, model: row.model });
  out.enrollmentStatus.set(row.enrollment_id, row.enrollment_status);
}

/**
 * The touch a click id brings (before the conversion's transaction: a fresh click may need
 * polling). A coupon code is resolved by the transaction's first statement instead
 * (`couponColumn`, then `addCouponTouch`).
 */
export async function resolveTouches(
  db: pg.Pool,
  workspaceId: string,
  input: { clickId?: string | undefined; occurredAt: Date },
  now: Date,
): Promise<ResolvedTouches> {
  const out: ResolvedTouches = { touches: [], notes: [], enrollmentStatus: new Map() };
  if (input.clickId) {
    const uuid = uuidFromClickId(input.clickId);
    const idTime = clickTime(input.clickId);
    let click = uuid ? await findClick(db, workspaceId, uuid) : null;
    if (!click && uuid && idTime !== null && Math.abs(now.getTime() - idTime) < 60_000) {
      const deadline = Date.now() + FRESH_CLICK_WAIT_MS;
      while (!click && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
        click = await findClick(db, workspaceId, uuid);
      }
    }
    const row = click
      ? (
          await db.query<ProgramRow>(`${ENROLLMENT_WITH_PROGRAM} and e.program_id = $2 and e.partner_id = $3`, [
            workspaceId,
            click.program_id,
            click.partner_id,
          ])
        ).rows[0]
      : undefined;
    // The click's time is the row's; the id (UUIDv7) carries the same instant when the row is missing.
    const at = click?.created_at.getTime() ?? idTime ?? input.occurredAt.getTime();
    if (row) addTouch(out, row, 'click', input.clickId, at);
    out.notes.push({
      key: input.clickId,
      via: 'click',
      programId: click?.program_id ?? null,
      partnerId: click?.partner_id ?? null,
      at: new Date(at),
      known: Boolean(row),
    });
  }
  return out;
}

/** A coupon's enrollment and program, as `couponColumn` selects it (JSON). */
export type CouponRow = ProgramRow;

/**
 * A select-list expression (JSON or null) finding the enrollment of `couponCode`, for the
 * conversion's first statement: `$workspaceParam` is the workspace, the code becomes `$codeParam`.
 * Exact match first (the unique index); customers type codes in any case, so then ignoring case.
 * Without a code it is `null` and adds no parameter.
 */
export function couponColumn(couponCode: string | undefined, workspaceParam: number, codeParam: number): { sql: string; params: unknown[] } {
  if (!couponCode) return { sql: 'null', params: [] };
  const base = ENROLLMENT_WITH_PROGRAM.replace('$1', `$${workspaceParam}`);
  return {
    sql: `coalesce(
      (select row_to_json(c) from (${base} and e.coupon_code = $${codeParam}::text) c),
      (select row_to_json(c) from (${base} and upper(e.coupon_code) = upper($${codeParam}::text) limit 1) c))`,
    params: [couponCode.trim()],
  };
}

/** Adds what a coupon code turned into (`row`, or null when no enrollment has it) to `out`; nothing without a code. */
export function addCouponTouch(out: ResolvedTouches, row: CouponRow | null, couponCode: string | undefined, occurredAt: Date): void {
  if (!couponCode) return;
  const code = couponCode.trim();
  // A coupon has no window: its touch is the conversion itself.
  if (row) addTouch(out, row, 'coupon', null, occurredAt.getTime());
  out.notes.push({ key: `coupon:${code.toUpperCase()}`, via: 'coupon', programId: row?.program_id ?? null, partnerId: row?.partner_id ?? null, at: occurredAt, known: Boolean(row) });
}

export async function enrollmentStatusOf(client: pg.PoolClient, workspaceId: string, enrollmentId: string): Promise<string | null> {
  const { rows } = await client.query<{ status: string }>('select status from enrollments where workspace_id = $1 and id = $2', [
    workspaceId,
    enrollmentId,
  ]);
  return rows[0]?.status ?? null;
}
