import { it } from 'vitest';
import { createTestContext } from '../test/harness.js';
import { seedDemo } from './demo.js';
it('measure', async () => {
  const ctx = await createTestContext();
  const t = Date.now(); const marks: [string, number][] = []; const origInject = ctx.app.inject.bind(ctx.app);
  const d = await seedDemo(ctx.services, ctx.app);
  console.log('SEED', Date.now() - t, JSON.stringify(d.content));
  const { rows } = await ctx.pool.query(`select status, count(*)::int, sum(amount)::int from commissions group by 1 order by 1`);
  console.log(JSON.stringify(rows));
  const r2 = await ctx.pool.query(`select kind, status, amount from payouts p left join (select 1) x on true limit 5`).catch(e=>({rows:[String(e)]}));
  console.log(JSON.stringify(r2.rows));
  await ctx.close();
}, 300_000);
