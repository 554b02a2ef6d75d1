import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type TestContext } from '../../test/harness.js';
import { insertPartnerWithTags, insertProgramWithRules } from '../rewards/test-fixtures.js';
import { withTransaction } from '../../db/tx.js';
import { refundSale, trackSale } from './record.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

describe('lock order', () => {
  it('a refund arriving while a sale of the same partner is under way waits for it instead of deadlocking', async () => {
    const brand = await signupActor(ctx.app);
    const api = asKey(ctx.app, brand.apiKey);
    const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, { sale: { type: 'flat', amount: 100 } });
    const partner = await insertPartnerWithTags(ctx.pool, program);
    const sell = (n: number) => ({ customer: { externalId: `lock-${n}` }, amount: 1000, currency: 'USD', invoiceId: `lock-${n}`, couponCode: partner.couponCode });
    expect((await api('POST', '/api/v1/track/sale', sell(1))).statusCode).toBe(200);

    let refund: Promise<string> | undefined;
    // The second sale holds the partner's lock; before its final statement, a refund of the first sale starts.
    const sale = trackSale(ctx.services, brand.workspaceId, sell(2), async () => {
      refund = withTransaction(ctx.pool, (client) => refundSale(client, ctx.services, brand.workspaceId, { invoiceId: 'lock-1' }, { amount: 10, occurredAt: new Date() })).then(
        () => 'refund ok',
        (error: { code?: string }) => `refund failed: ${error.code}`,
      );
      // Let the refund get as far as it can: it must now wait for the partner's lock.
      for (let i = 0; i < 100; i++) {
        const { rows } = await ctx.pool.query<{ n: number }>(`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`);
        if (rows[0]!.n > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }).then(
      () => 'sale ok',
      (error: { code?: string }) => `sale failed: ${error.code}`,
    );
    expect([await sale, await refund]).toEqual(['sale ok', 'refund ok']);
    const counts = await ctx.pool.query('select sales, refunded_sales from partner_sale_counts where workspace_id = $1', [brand.workspaceId]);
    expect(counts.rows).toEqual([{ sales: 2, refunded_sales: 1 }]);
  });
});
