import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { createTestContext, signupActor, type TestContext } from '../../test/harness.js';
import { insertProgram } from '../tracking/test-fixtures.js';
import { clickRetentionCutoff, purgeExpiredClicks, RETENTION_QUEUE } from './retention.js';

const NOW = new Date('2027-06-15T12:00:00.000Z');
const DAY = 24 * 3600 * 1000;

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ now: NOW, env: { TANDEM_CLICK_RETENTION_DAYS: '30' } });
});
afterAll(async () => ctx?.close());

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
    const ago = (days: number) => new Date(NOW.getTime() - days * DAY);
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
    expect(purge).toEqual({ deleted: 3, retentionDays: 30, longestAttributionWindowDays: 90 });
  });
});
