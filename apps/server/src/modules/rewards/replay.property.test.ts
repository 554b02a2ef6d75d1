import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTransaction } from '../../db/tx.js';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { holdCommission, releaseCommission, reverseCommission } from './index.js';
import { replayStoredProgram } from './replay.js';
import { insertPartnerWithTags, insertProgramWithRules } from './test-fixtures.js';

/*
 * Random event streams through the real API (sales, duplicates, refunds, maturity, payouts paid or
 * failed, holds, releases, reversals): whatever order the API accepts, the stored ledger verifies,
 * every partner's pending + payable + paid equals its non-reversed commissions bucket by bucket,
 * and replaying the reward event log reproduces every commission and balance exactly.
 */

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
const NOW = new Date('2026-09-30T00:00:00Z');

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
});
afterAll(async () => ctx?.close());

const step = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('sale' as const), partner: fc.nat({ max: 2 }), customer: fc.nat({ max: 4 }), amount: fc.integer({ min: 0, max: 40_000 }), days: fc.integer({ min: 0, max: 6 }), dup: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('refund' as const), pick: fc.nat(), part: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('mature' as const), days: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('payout' as const), min: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constantFrom('paid' as const, 'paid' as const, 'failed' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('hold' as const, 'release' as const, 'reverse' as const), pick: fc.nat() }) },
);

it('replay reproduces the ledger exactly and no accepted order makes a balance drift', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
      run += 1;
      const program = await insertProgramWithRules(ctx.pool, brand.workspaceId, {
        sale: { type: 'percentage', amount: 10, duration: { months: 1 } },
        tiers: { period: 'month', levels: [{ min: 2, type: 'percentage', amount: 20 }] },
        bonuses: [{ kind: 'milestone', period: 'month', threshold: 2, amount: 700 }, { kind: 'early_bird', period: 'month', first: 2, scope: 'partner', amount: 150 }],
        cap: { period: 'month', amount: 9_000 },
        qualification: { holdDays: 5, minSaleAmount: 1_000 },
      });
      const partners = [];
      for (let i = 0; i < 3; i++) partners.push(await insertPartnerWithTags(ctx.pool, program));
      const invoices: { id: string; amount: number; refunded: number }[] = [];
      const payouts: string[] = [];
      let saleTime = Date.parse('2026-07-01T00:00:00Z');
      let matureTime = saleTime;
      for (const [i, s] of steps.entries()) {
        if (s.t === 'sale') {
          saleTime += s.days * 86_400_000;
          const repeat = s.dup && invoices.length > 0 ? invoices[invoices.length - 1]! : null;
          const invoiceId = repeat?.id ?? `r${run}-i${i}`;
          const res = await api('POST', '/api/v1/track/sale', {
            customer: { externalId: `r${run}-c${s.customer}` }, amount: repeat?.amount ?? s.amount, currency: 'USD', invoiceId, couponCode: partners[s.partner]!.couponCode, occurredAt: new Date(saleTime).toISOString(),
          });
          expect(res.statusCode).toBe(200);
          if (!repeat) invoices.push({ id: invoiceId, amount: s.amount, refunded: 0 });
        } else if (s.t === 'refund' && invoices.length) {
          const inv = invoices[s.pick % invoices.length]!;
          const left = inv.amount - inv.refunded;
          if (left <= 0) continue;
          const amount = Math.max(1, Math.floor((left * s.part) / 100));
          const res = await api('POST', '/api/v1/track/refund', { invoiceId: inv.id, amount, occurredAt: new Date(saleTime).toISOString() });
          expect(res.statusCode).toBe(200);
          inv.refunded += amount;
        } else if (s.t === 'mature') {
          matureTime = Math.max(matureTime, saleTime) + s.days * 86_400_000;
          expect((await api('POST', '/api/v1/jobs/mature', { asOf: new Date(matureTime).toISOString() })).statusCode).toBe(200);
        } else if (s.t === 'payout') {
          const res = await api('POST', '/api/v1/payouts', { programId: program.programId, minAmount: s.min });
          expect(res.statusCode).toBe(201);
          payouts.push(...res.json().payouts.map((p: { id: string }) => p.id));
        } else if ((s.t === 'paid' || s.t === 'failed') && payouts.length) {
          const id = payouts[s.pick % payouts.length]!;
          const res = s.t === 'paid' ? await api('POST', `/api/v1/payouts/${id}/mark-paid`, { reference: `ref-${id}` }) : await api('POST', `/api/v1/payouts/${id}/mark-failed`, { reason: 'bounced' });
          expect([200, 409]).toContain(res.statusCode);
        } else if (s.t === 'hold' || s.t === 'release' || s.t === 'reverse') {
          const { rows } = await ctx.pool.query<{ id: string }>('select id from commissions where workspace_id = $1 and program_id = $2 order by id', [brand.workspaceId, program.programId]);
          if (!rows.length) continue;
          const commissionId = rows[s.pick % rows.length]!.id;
          const input = { workspaceId: brand.workspaceId, commissionId, reason: 'review' };
          const action = s.t === 'hold' ? holdCommission : s.t === 'release' ? releaseCommission : reverseCommission;
          await withTransaction(ctx.pool, (c) => action(c, input)).catch((error: { code?: string }) => {
            if (error.code !== 'conflict') throw error;
          });
        }
      }
      const report = await replayStoredProgram(ctx.pool, program.programId);
      expect(report.differences).toEqual([]);
      for (const p of partners) {
        const balance = (await api('GET', `/api/v1/partners/${p.partnerId}/balance?programId=${program.programId}`)).json();
        const { rows } = await ctx.pool.query<{ pending: number; payable: number; paid: number }>(
          `select coalesce(sum(amount - reversed_amount) filter (where status in ('pending', 'held')), 0)::bigint as pending,
                  coalesce(sum(amount - reversed_amount) filter (where status = 'payable'), 0)::bigint as payable,
                  coalesce(sum(amount - reversed_amount) filter (where status = 'paid'), 0)::bigint as paid
             from commissions where workspace_id = $1 and program_id = $2 and partner_id = $3`,
          [brand.workspaceId, program.programId, p.partnerId],
        );
        expect({ pending: balance.pending, payable: balance.payable, paid: balance.paid }).toEqual(rows[0]);
      }
    }),
    { numRuns: 15 },
  );
  // The streams reached every money path (not only sales that stay pending).
  const { rows: kinds } = await ctx.pool.query<{ kind: string }>('select distinct kind from commissions where workspace_id = $1', [brand.workspaceId]);
  expect(kinds.map((k) => k.kind).sort()).toEqual(expect.arrayContaining(['bonus', 'sale']));
  expect((await api('GET', '/api/v1/ledger/verify')).json()).toMatchObject({ ok: true, problems: [] });
}, 240_000);
