import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { asKey, createTestContext, signupActor, type TestContext } from '../../test/harness.js';
import { insertProgram } from '../tracking/test-fixtures.js';
import { clickRetentionCutoff, purgeExpiredClicks, RETENTION_QUEUE } from './retention.js';
import { PENDING_REFUND_KEEP_DAYS, purgeExpiredPendingRefunds } from '../stripe/refunds.js';

const NOW = new Date('2027-06-15T12:00:00.000Z');
const DAY = 24 * 3600 * 1000;

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ now: NOW, env: { TANDEM_CLICK_RETENTION_DAYS: '30' } });
});
afterAll(async () => ctx?.close());
// Each test starts as a fresh install: no previous run, the clock at NOW.
beforeEach(async () => {
  ctx.clock.set(NOW);
  await ctx.pool.query('delete from retention_runs');
});
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

async function insertClick(workspaceId: string, createdAt: Date, programId = 'prg_x'): Promise<string> {
  const id = randomUUID();
  await ctx.pool.query(
    `insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at) values ($1, $2, 'lnk_x', $3, 'ptn_x', $4)`,
    [workspaceId, id, programId, createdAt],
  );
  return id;
}

describe('click retention', () => {
  it('defaults to about 13 months and reads TANDEM_CLICK_RETENTION_DAYS', () => {
    expect(loadConfig({}).clickRetentionDays).toBe(396);
    expect(loadConfig({ TANDEM_CLICK_RETENTION_DAYS: '90' }).clickRetentionDays).toBe(90);
    expect(() => loadConfig({ TANDEM_CLICK_RETENTION_DAYS: '0' })).toThrow(/TANDEM_CLICK_RETENTION_DAYS/);
    expect(clickRetentionCutoff(NOW, 30).toISOString()).toBe('2027-05-16T12:00:00.000Z');
  });

  it('purges raw clicks older than the retention age on its schedule and keeps rollups', async () => {
    const actor = await signupActor(ctx.app);
    const expired = await insertClick(actor.workspaceId, new Date(NOW.getTime() - 31 * DAY));
    const veryOld = await insertClick(actor.workspaceId, new Date(NOW.getTime() - 800 * DAY));
    const recent = await insertClick(actor.workspaceId, new Date(NOW.getTime() - 29 * DAY));
    await ctx.pool.query(
      `insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks) values ($1, 'lnk_x', $2, 'prg_x', 'ptn_x', 2)`,
      [actor.workspaceId, new Date(NOW.getTime() - 31 * DAY)],
    );

    // The schedule is declared at start-up; draining runs it once.
    await ctx.services.queue.drain();

    const { rows } = await ctx.pool.query<{ id: string }>('select id from clicks where workspace_id = $1', [actor.workspaceId]);
    expect(rows.map((r) => r.id)).toEqual([recent]);
    expect(rows.map((r) => r.id)).not.toContain(expired);
    expect(rows.map((r) => r.id)).not.toContain(veryOld);
    const rollups = await ctx.pool.query('select clicks from click_rollups where workspace_id = $1', [actor.workspaceId]);
    expect(rollups.rows).toEqual([{ clicks: 2 }]);
    const schedule = await ctx.pool.query(`select interval_seconds from job_schedules where name = $1`, [RETENTION_QUEUE]);
    expect(schedule.rows).toEqual([{ interval_seconds: 3600 }]);
  });

  it('keeps a click older than the retention while its program\'s attribution window is open, and reports the longest window', async () => {
    const actor = await signupActor(ctx.app);
    const quarterly = await insertProgram(ctx.pool, actor.workspaceId, { windowDays: 90 });
    const weekly = await insertProgram(ctx.pool, actor.workspaceId, { windowDays: 7 });
    const insideWindow = await insertClick(actor.workspaceId, ago(60), quarterly.programId);
    const windowClosed = await insertClick(actor.workspaceId, ago(91), quarterly.programId);
    const shortWindowExpired = await insertClick(actor.workspaceId, ago(31), weekly.programId);
    const shortWindowRecent = await insertClick(actor.workspaceId, ago(29), weekly.programId);
    const unknownProgram = await insertClick(actor.workspaceId, ago(31), 'prg_gone');

    const purge = await purgeExpiredClicks(ctx.services);

    const { rows } = await ctx.pool.query<{ id: string }>('select id from clicks where workspace_id = $1', [actor.workspaceId]);
    const kept = rows.map((r) => r.id);
    expect(kept.sort()).toEqual([insideWindow, shortWindowRecent].sort());
    for (const gone of [windowClosed, shortWindowExpired, unknownProgram]) expect(kept).not.toContain(gone);
    expect(purge).toEqual({ deleted: 3, retentionDays: 30, longestAttributionWindowDays: 90, sincePreviousRun: null });
  });

  it('reads only the clicks that can have expired since the previous run, and all of them again after a window shrank', async () => {
    const actor = await signupActor(ctx.app);
    const quarterly = await insertProgram(ctx.pool, actor.workspaceId, { windowDays: 90 });
    const weekly = await insertProgram(ctx.pool, actor.workspaceId, { windowDays: 7 });
    const weeklyExpiresNext = await insertClick(actor.workspaceId, ago(29.9), weekly.programId);
    const quarterlyExpiresNext = await insertClick(actor.workspaceId, ago(89.9), quarterly.programId);
    const quarterlyKept = await insertClick(actor.workspaceId, ago(60), quarterly.programId);
    const weeklyRecent = await insertClick(actor.workspaceId, ago(10), weekly.programId);
    const clicksLeft = async () =>
      (await ctx.pool.query<{ id: string }>('select id from clicks where workspace_id = $1', [actor.workspaceId])).rows.map((r) => r.id).sort();

    expect(await purgeExpiredClicks(ctx.services)).toMatchObject({ deleted: 0, sincePreviousRun: null });
    // Written after that run with dates it had already passed: one in the band it will not read
    // again, one past the longest window, where every click goes.
    const writtenLateInBand = await insertClick(actor.workspaceId, ago(45), weekly.programId);
    const writtenLatePastEveryWindow = await insertClick(actor.workspaceId, ago(120), weekly.programId);

    ctx.clock.advance(DAY);
    expect(await purgeExpiredClicks(ctx.services)).toMatchObject({ sincePreviousRun: NOW });
    expect(await clicksLeft()).toEqual([quarterlyKept, weeklyRecent, writtenLateInBand].sort());
    for (const gone of [weeklyExpiresNext, quarterlyExpiresNext, writtenLatePastEveryWindow]) expect(await clicksLeft()).not.toContain(gone);

    // A shorter window puts clicks the previous run kept in the range again: all are read.
    await ctx.pool.query('update programs set attribution_window_days = 7 where workspace_id = $1 and id = $2', [actor.workspaceId, quarterly.programId]);
    expect(await purgeExpiredClicks(ctx.services)).toMatchObject({ sincePreviousRun: null });
    expect(await clicksLeft()).toEqual([weeklyRecent]);
  });

  it('reads all clicks again when the retention is shorter than in the previous run', async () => {
    const actor = await signupActor(ctx.app);
    expect(await purgeExpiredClicks(ctx.services)).toMatchObject({ sincePreviousRun: null });
    const writtenLate = await insertClick(actor.workspaceId, ago(25));
    const kept = await insertClick(actor.workspaceId, ago(15));
    const shorter = { ...ctx.services, config: { ...ctx.services.config, clickRetentionDays: 20 } };

    expect(await purgeExpiredClicks(shorter)).toMatchObject({ retentionDays: 20, sincePreviousRun: null });
    const { rows } = await ctx.pool.query<{ id: string }>('select id from clicks where workspace_id = $1', [actor.workspaceId]);
    expect(rows.map((r) => r.id)).toEqual([kept]);
    expect(rows.map((r) => r.id)).not.toContain(writtenLate);
  });
});

describe('Stripe refunds waiting for a sale that never came', () => {
  async function keepWaiting(workspaceId: string, eventId: string, receivedAt: Date): Promise<void> {
    await ctx.pool.query(`insert into stripe_events (workspace_id, event_id, type, outcome) values ($1, $2, 'charge.refunded', 'refund_pending')`, [workspaceId, eventId]);
    await ctx.pool.query(
      `insert into stripe_pending_refunds (workspace_id, event_id, charge_id, refs, amount_refunded, occurred_at, received_at) values ($1, $2, $3, $4, 500, $5, $5)`,
      [workspaceId, eventId, `ch_${eventId}`, [`pi_${eventId}`], receivedAt],
    );
  }
  const waiting = async (workspaceId: string) =>
    (await ctx.pool.query<{ event_id: string }>('select event_id from stripe_pending_refunds where workspace_id = $1 order by event_id', [workspaceId])).rows.map((r) => r.event_id);
  const outcomes = async (workspaceId: string) =>
    Object.fromEntries((await ctx.pool.query<{ event_id: string; outcome: string }>('select event_id, outcome from stripe_events where workspace_id = $1', [workspaceId])).rows.map((r) => [r.event_id, r.outcome]));

  it(`are deleted by the retention job after ${PENDING_REFUND_KEEP_DAYS} days, in each workspace, and their event says why`, async () => {
    const a = await signupActor(ctx.app);
    const b = await signupActor(ctx.app);
    await keepWaiting(a.workspaceId, 'evt_old', ago(PENDING_REFUND_KEEP_DAYS + 1));
    await keepWaiting(a.workspaceId, 'evt_recent', ago(PENDING_REFUND_KEEP_DAYS - 1));
    // The same event id in another workspace (each has its own Stripe account): only its own age counts.
    await keepWaiting(b.workspaceId, 'evt_old', ago(2));
    await keepWaiting(b.workspaceId, 'evt_older', ago(400));

    await ctx.services.queue.enqueue(RETENTION_QUEUE);
    await ctx.services.queue.drain();

    expect(await waiting(a.workspaceId)).toEqual(['evt_recent']);
    expect(await waiting(b.workspaceId)).toEqual(['evt_old']);
    expect(await outcomes(a.workspaceId)).toEqual({ evt_old: 'ignored:unknown_sale', evt_recent: 'refund_pending' });
    expect(await outcomes(b.workspaceId)).toEqual({ evt_old: 'refund_pending', evt_older: 'ignored:unknown_sale' });
  });

  it('are applied, not deleted, when their sale was recorded after all (its look for them was missed)', async () => {
    // A sale recorded while the workspace had no Stripe secret yet looks for no waiting refund (stripe/hooks.ts).
    const a = await signupActor(ctx.app);
    const sale = await asKey(ctx.app, a.apiKey)('POST', '/api/v1/track/sale', { customer: { externalId: 'late-buyer' }, amount: 2000, currency: 'USD', invoiceId: 'pi_evt_missed' });
    expect(sale.statusCode, sale.body).toBe(200);
    await keepWaiting(a.workspaceId, 'evt_missed', ago(PENDING_REFUND_KEEP_DAYS + 1));
    await keepWaiting(a.workspaceId, 'evt_never', ago(PENDING_REFUND_KEEP_DAYS + 1));

    await ctx.services.queue.enqueue(RETENTION_QUEUE);
    await ctx.services.queue.drain();

    expect(await waiting(a.workspaceId)).toEqual([]);
    expect(await outcomes(a.workspaceId)).toEqual({ evt_missed: 'refund', evt_never: 'ignored:unknown_sale' });
    const { rows } = await ctx.pool.query('select refunded_amount from sales where workspace_id = $1 and id = $2', [a.workspaceId, sale.json().sale.id]);
    expect(rows).toEqual([{ refunded_amount: 500 }]);
  });

  it("keep a refund whose sale could not take it for the next run, and expire other workspaces' all the same", async () => {
    const a = await signupActor(ctx.app);
    const b = await signupActor(ctx.app);
    const sale = await asKey(ctx.app, a.apiKey)('POST', '/api/v1/track/sale', { customer: { externalId: 'stuck-buyer' }, amount: 2000, currency: 'USD', invoiceId: 'pi_evt_stuck' });
    expect(sale.statusCode, sale.body).toBe(200);
    const saleId = sale.json().sale.id as string;
    await keepWaiting(a.workspaceId, 'evt_stuck', ago(PENDING_REFUND_KEEP_DAYS + 1));
    await keepWaiting(b.workspaceId, 'evt_gone', ago(PENDING_REFUND_KEEP_DAYS + 1));
    // This sale's refund fails (as a database error would) until the trigger is dropped.
    await ctx.pool.query(`create function retention_test_refuse() returns trigger language plpgsql as $$ begin raise exception 'refused'; end $$`);
    await ctx.pool.query(`create trigger retention_test_refuse before insert on refunds for each row when (new.sale_id = '${saleId}') execute function retention_test_refuse()`);
    try {
      await purgeExpiredPendingRefunds(ctx.services);
    } finally {
      await ctx.pool.query('drop trigger retention_test_refuse on refunds');
      await ctx.pool.query('drop function retention_test_refuse');
    }
    expect(await waiting(a.workspaceId)).toEqual(['evt_stuck']);
    expect(await outcomes(a.workspaceId)).toEqual({ evt_stuck: 'refund_pending' });
    expect(await waiting(b.workspaceId)).toEqual([]);
    // The next run applies it.
    await purgeExpiredPendingRefunds(ctx.services);
    expect(await outcomes(a.workspaceId)).toEqual({ evt_stuck: 'refund' });
    const { rows } = await ctx.pool.query('select refunded_amount from sales where workspace_id = $1 and id = $2', [a.workspaceId, saleId]);
    expect(rows).toEqual([{ refunded_amount: 500 }]);
  });

  it('are deleted a bounded batch per statement until none is left', async () => {
    const a = await signupActor(ctx.app);
    for (let i = 0; i < 5; i++) await keepWaiting(a.workspaceId, `evt_${i}`, ago(PENDING_REFUND_KEEP_DAYS + 1 + i));
    await keepWaiting(a.workspaceId, 'evt_kept', ago(1));
    const statements: string[] = [];
    const pool = new Proxy(ctx.pool, {
      get(target, key) {
        if (key !== 'query') return Reflect.get(target, key, target);
        return (text: string, params: unknown[]) => {
          if (/delete from stripe_pending_refunds/.test(text)) statements.push(String(params.at(-1)));
          return target.query(text, params);
        };
      },
    });
    expect(await purgeExpiredPendingRefunds({ ...ctx.services, pool }, { batch: 2 })).toBeGreaterThanOrEqual(5);
    expect(await waiting(a.workspaceId)).toEqual(['evt_kept']);
    // Each statement deletes at most the batch: 2 + 2 + 1 here.
    expect(statements.length).toBeGreaterThanOrEqual(3);
    expect(statements.every((limit) => limit === '2')).toBe(true);
  });
});
