import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { partnerKey, programKey } from '../../db/locks.js';
import { insertClick, insertPartner, insertProgram, type PartnerFixture, type ProgramFixture } from './test-fixtures.js';
import { trackSale, type SaleInput } from './record.js';

/*
 * A coupon sale's first statement takes the coupon partner's locks and reads the program and
 * enrollment for the rewards hook (record.ts, couponLocking) — but only when the sale cannot be
 * attributed to anyone else. These tests look at the advisory locks the sale's transaction holds
 * just before its final statement: exactly the attributed partner's, never another's. (Whether the
 * early path ran at all shows in round-trips.test.ts: it is what keeps a coupon sale at three.)
 */

let ctx: TestContext;
let brand: Actor;
beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app);
});
afterAll(async () => ctx?.close());

const RULES = { sale: { type: 'flat', amount: 100 } };

/** The advisory locks this backend holds, as the keys of db/locks.ts they were taken for. */
async function heldLocks(client: pg.PoolClient, keys: string[]): Promise<string[]> {
  const { rows } = await client.query<{ lock: string }>(
    `select case l.classid when 41 then 'program ' when 42 then 'partner ' end || coalesce(k.key, '?') || ' ' || l.mode as lock
       from pg_locks l left join unnest($1::text[]) k(key) on (hashtext(k.key)::bigint & 4294967295) = l.objid::bigint
      where l.locktype = 'advisory' and l.pid = pg_backend_pid() order by 1`,
    [keys],
  );
  return rows.map((r) => r.lock);
}

async function saleHolding(input: SaleInput, keys: string[]) {
  let held: string[] = [];
  const { body } = await trackSale(ctx.services, brand.workspaceId, input, async (client) => {
    held = await heldLocks(client, keys);
  });
  return { body, held };
}

function keysOf(program: ProgramFixture, ...partners: PartnerFixture[]): string[] {
  return [programKey(brand.workspaceId, program.programId), ...partners.map((p) => partnerKey(brand.workspaceId, program.programId, p.partnerId))];
}

describe("a coupon sale's first statement", () => {
  it("locks the coupon's partner for a new customer and earns as before", async () => {
    const program = await insertProgram(ctx.pool, brand.workspaceId, { rules: RULES });
    const partner = await insertPartner(ctx.pool, program);
    const keys = keysOf(program, partner);
    const { body, held } = await saleHolding({ customer: { externalId: 'prep-new' }, amount: 1000, currency: 'USD', invoiceId: 'prep-new', couponCode: partner.couponCode }, keys);
    expect(body).toMatchObject({ attributed: true, partnerId: partner.partnerId, commission: { amount: 100, status: 'pending' } });
    expect(held).toEqual([`partner ${keys[1]} ExclusiveLock`, `program ${keys[0]} ShareLock`]);
  });

  it('finds a coupon typed in another case, and an enrollment that cannot earn earns nothing', async () => {
    const program = await insertProgram(ctx.pool, brand.workspaceId, { rules: RULES });
    const pending = await insertPartner(ctx.pool, program, { status: 'pending' });
    const keys = keysOf(program, pending);
    const { body, held } = await saleHolding(
      { customer: { externalId: 'prep-pending' }, amount: 1000, currency: 'USD', invoiceId: 'prep-pending', couponCode: pending.couponCode.toLowerCase() },
      keys,
    );
    expect(body).toMatchObject({ attributed: true, partnerId: pending.partnerId });
    expect(body.commission).toBeUndefined();
    expect(held).toEqual([`partner ${keys[1]} ExclusiveLock`, `program ${keys[0]} ShareLock`]);
  });

  it("does not lock the coupon's partner when the customer stays with another partner (first touch)", async () => {
    const program = await insertProgram(ctx.pool, brand.workspaceId, { rules: RULES, model: 'first_touch' });
    const first = await insertPartner(ctx.pool, program);
    const second = await insertPartner(ctx.pool, program);
    const keys = keysOf(program, first, second);
    await saleHolding({ customer: { externalId: 'prep-first' }, amount: 1000, currency: 'USD', invoiceId: 'prep-first-1', couponCode: first.couponCode }, keys);
    const { body, held } = await saleHolding({ customer: { externalId: 'prep-first' }, amount: 1000, currency: 'USD', invoiceId: 'prep-first-2', couponCode: second.couponCode }, keys);
    expect(body).toMatchObject({ partnerId: first.partnerId, commission: { amount: 100 } });
    expect(held).toEqual([`partner ${keys[1]} ExclusiveLock`, `program ${keys[0]} ShareLock`]);
  });

  it("does not lock the partner in the coupon's program when the customer stays with the same partner in another program", async () => {
    const standing = await insertProgram(ctx.pool, brand.workspaceId, { rules: RULES, model: 'first_touch' });
    const partner = await insertPartner(ctx.pool, standing);
    const other = await insertProgram(ctx.pool, brand.workspaceId, { rules: RULES });
    // The same partner, enrolled in a second program with a coupon of its own there.
    const otherEnrollment = { ...partner, enrollmentId: `enr_other${partner.partnerId.slice(4)}`, couponCode: `OTHER${partner.couponCode}` };
    await ctx.pool.query('insert into enrollments (workspace_id, id, program_id, partner_id, status, coupon_code) values ($1, $2, $3, $4, $5, $6)', [
      brand.workspaceId, otherEnrollment.enrollmentId, other.programId, partner.partnerId, 'approved', otherEnrollment.couponCode,
    ]);
    const keys = [...keysOf(standing, partner), ...keysOf(other, otherEnrollment)];
    await saleHolding({ customer: { externalId: 'prep-programs' }, amount: 1000, currency: 'USD', invoiceId: 'prep-programs-1', couponCode: partner.couponCode }, keys);
    const { body, held } = await saleHolding({ customer: { externalId: 'prep-programs' }, amount: 1000, currency: 'USD', invoiceId: 'prep-programs-2', couponCode: otherEnrollment.couponCode }, keys);
    expect(body).toMatchObject({ partnerId: partner.partnerId, commission: { amount: 100 } });
    // First touch keeps the customer in the first program: only that program's locks are held.
    expect(held).toEqual([`partner ${keys[1]} ExclusiveLock`, `program ${keys[0]} ShareLock`]);
  });

  it('moves a last-touch customer to the new coupon partner, locking only that one', async () => {
    const program = await insertProgram(ctx.pool, brand.workspaceId, { rules: RULES, model: 'last_touch' });
    const before = await insertPartner(ctx.pool, program);
    const after = await insertPartner(ctx.pool, program);
    const keys = keysOf(program, before, after);
    await saleHolding({ customer: { externalId: 'prep-last' }, amount: 1000, currency: 'USD', invoiceId: 'prep-last-1', couponCode: before.couponCode }, keys);
    const { body, held } = await saleHolding({ customer: { externalId: 'prep-last' }, amount: 1000, currency: 'USD', invoiceId: 'prep-last-2', couponCode: after.couponCode }, keys);
    expect(body).toMatchObject({ partnerId: after.partnerId, commission: { amount: 100 } });
    expect(held).toEqual([`partner ${keys[2]} ExclusiveLock`, `program ${keys[0]} ShareLock`]);
  });

  it('takes no lock up front when the sale also names a click: under first touch the click wins', async () => {
    const program = await insertProgram(ctx.pool, brand.workspaceId, { rules: RULES, model: 'first_touch' });
    const clicked = await insertPartner(ctx.pool, program);
    const coupon = await insertPartner(ctx.pool, program);
    const keys = keysOf(program, clicked, coupon);
    const clickId = await insertClick(ctx.pool, program, clicked, new Date(Date.now() - 60_000));
    const { body, held } = await saleHolding({ customer: { externalId: 'prep-click' }, amount: 1000, currency: 'USD', invoiceId: 'prep-click', couponCode: coupon.couponCode, clickId }, keys);
    expect(body).toMatchObject({ partnerId: clicked.partnerId, commission: { amount: 100 } });
    expect(held).toEqual([`partner ${keys[1]} ExclusiveLock`, `program ${keys[0]} ShareLock`]);
  });

  it('answers a repeated invoice without taking any lock', async () => {
    const program = await insertProgram(ctx.pool, brand.workspaceId, { rules: RULES });
    const partner = await insertPartner(ctx.pool, program);
    const input = { customer: { externalId: 'prep-repeat' }, amount: 1000, currency: 'USD', invoiceId: 'prep-repeat', couponCode: partner.couponCode };
    const first = await trackSale(ctx.services, brand.workspaceId, input);
    const client = await ctx.pool.connect();
    let again: unknown;
    try {
      await client.query('begin');
      // Holding the partner's lock here: a repeat that tried to take it would wait for this rollback.
      await client.query('select pg_advisory_xact_lock(42, hashtext($1))', [keysOf(program, partner)[1]]);
      again = await Promise.race([trackSale(ctx.services, brand.workspaceId, input), new Promise((r) => setTimeout(() => r('waited for the lock'), 2_000))]);
    } finally {
      await client.query('rollback');
      client.release();
    }
    expect(again).toEqual({ body: first.body, replayed: true });
  });
});
