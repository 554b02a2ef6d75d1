import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { insertPartnerWithTags, insertProgramWithRules } from './test-fixtures.js';

const NOW = new Date('2026-06-15T12:00:00.000Z');
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
let ctx: TestContext;
let brand: Actor;

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
});
afterAll(async () => ctx?.close());

it('the scheduled maturity job makes due commissions payable, and `tandem rewards replay` reports no difference', async () => {
  const api = asKey(ctx.app, brand.apiKey);
  const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 400 }, qualification: { holdDays: 1 } });
  const partner = await insertPartnerWithTags(ctx.pool, program);
  const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: 'job-1' }, amount: 1000, currency: 'USD', invoiceId: 'job-inv-1', couponCode: partner.couponCode });
  expect(res.json().commission).toMatchObject({ amount: 400, status: 'pending' });

  const { rows: schedules } = await ctx.pool.query<{ interval_seconds: number }>(`select interval_seconds from job_schedules where name = 'rewards.mature'`);
  expect(schedules).toEqual([{ interval_seconds: 60 }]);
  await ctx.services.queue.drain();
  expect((await api('GET', `/api/v1/commissions?programId=${program.programId}`)).json().data[0].status).toBe('pending');

  // A day later (the injected clock is the job's asOf) the schedule fires again and the job matures it.
  ctx.clock.advance(86_400_000);
  await ctx.pool.query(`update job_schedules set next_run_at = now() - interval '1 second' where name = 'rewards.mature'`);
  await ctx.services.queue.drain();
  expect((await api('GET', `/api/v1/commissions?programId=${program.programId}`)).json().data[0].status).toBe('payable');

  const cli = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/server/src/cli.ts'), 'rewards', 'replay', '--program', program.programId], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: ctx.databaseUrl, TANDEM_SECRET: 'rewards-replay-cli-secret-0123456789abcdef', TANDEM_DEMO: '0', LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(cli.stdout).toContain(`commissions of ${program.programId}: 0 differences`);
  expect(cli.status).toBe(0);

  // A stored commission edited behind the engine's back is reported, with a non-zero exit.
  await ctx.pool.query('update commissions set amount = 401 where workspace_id = $1', [brand.workspaceId]);
  const tampered = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/server/src/cli.ts'), 'rewards', 'replay', '--program', program.programId], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: ctx.databaseUrl, TANDEM_SECRET: 'rewards-replay-cli-secret-0123456789abcdef', TANDEM_DEMO: '0', LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(tampered.stdout).toMatch(/amount stored 401, replay 400/);
  expect(tampered.status).toBe(1);
}, 120_000);
