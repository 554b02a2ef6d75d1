import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { asKey, cookieHeader, createTestContext, signupActor, uniqueEmail, type Actor, type TestContext } from '../../test/harness.js';
import { bucketStart, earningsSeries } from './earnings-series.js';
import { verifyPortalEmailForTest } from './test-support.js';

// Far enough ahead that the hourly session clean-up (which uses the database clock) keeps test sessions.
const start = new Date('2030-06-10T09:00:00Z');
const DAY = 86_400_000;

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let programId: string;

interface Partner {
  get(url: string): Promise<LightMyRequestResponse>;
  post(url: string, payload?: object): Promise<LightMyRequestResponse>;
}
async function portalSignup(email: string): Promise<Partner> {
  const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/signup', payload: { email, password: 'partner password', name: 'Pat Partner' } });
  expect(res.statusCode).toBe(201);
  const cookie = cookieHeader(res);
  const csrf = res.json().csrfToken;
  await verifyPortalEmailForTest(ctx, { userId: res.json().user.id, email, cookie, csrf });
  return {
    get: (url) => ctx.app.inject({ method: 'GET', url, headers: { cookie } }),
    post: (url, payload) => ctx.app.inject({ method: 'POST', url, headers: { cookie, 'x-csrf-token': csrf }, ...(payload ? { payload } : {}) }),
  };
}

let invoice = 0;
async function sale(couponCode: string, customer: string, amount: number) {
  const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: customer, email: `${customer}@buyer.example.com` }, amount, currency: 'USD', invoiceId: `inv-${++invoice}`, couponCode });
  expect(res.statusCode).toBe(200);
}

async function matureDueCommissions() {
  await ctx.pool.query(`update job_schedules set next_run_at = now() - interval '1 second' where name = 'rewards.mature'`);
  await ctx.services.queue.drain();
}

let pat: Partner;
let patEnrollment: string;
let sam: Partner;
let samEnrollment: string;
const base = (id: string) => `/api/v1/portal/enrollments/${id}`;

beforeAll(async () => {
  ctx = await createTestContext({ now: start });
  brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
  api = asKey(ctx.app, brand.apiKey);
  programId = (
    await api('POST', '/api/v1/programs', {
      name: 'Acme Riders', currency: 'USD', destinationUrl: 'https://acme.example.com/',
      rules: { sale: { type: 'percentage', amount: 10 }, qualification: { holdDays: 30 } }, status: 'active',
    })
  ).json().id;
  const patEmail = uniqueEmail('pat');
  const samEmail = uniqueEmail('sam');
  const patAdded = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: patEmail, name: 'Pat' })).json();
  const samAdded = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: samEmail, name: 'Sam' })).json();
  patEnrollment = patAdded.enrollment.id;
  samEnrollment = samAdded.enrollment.id;

  // Day 0: two sales (pending); day 31: they mature (payable); day 33: a third sale (pending).
  await sale(patAdded.enrollment.couponCode, 'c1', 10_000);
  await sale(patAdded.enrollment.couponCode, 'c2', 5_000);
  await sale(samAdded.enrollment.couponCode, 'c3', 70_000);
  ctx.clock.advance(31 * DAY);
  await matureDueCommissions();
  ctx.clock.advance(2 * DAY);
  await sale(patAdded.enrollment.couponCode, 'c4', 20_000);
  // Signed up last: a session lives shorter than the month the clock moved.
  pat = await portalSignup(patEmail);
  sam = await portalSignup(samEmail);
});
afterAll(async () => ctx?.close());

describe('portal balance and commissions', () => {
  it('sums the partner’s own ledger into pending, payable and paid', async () => {
    const res = await pat.get(`${base(patEnrollment)}/balance`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ currency: 'USD', pending: 2000, payable: 1500, paid: 0 });
    expect((await sam.get(`${base(samEnrollment)}/balance`)).json()).toEqual({ currency: 'USD', pending: 0, payable: 7000, paid: 0 });
  });

  it('lists the partner’s commissions newest first, paginated, without customer data', async () => {
    const first = await pat.get(`${base(patEnrollment)}/commissions?limit=2`);
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.data.map((c: { amount: number; status: string }) => [c.amount, c.status])).toEqual([[2000, 'pending'], [500, 'payable']]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await pat.get(`${base(patEnrollment)}/commissions?limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2).toMatchObject({ data: [{ amount: 1000, status: 'payable', kind: 'sale' }], nextCursor: null });
    const raw = JSON.stringify([...page1.data, ...page2.data]);
    expect(raw).not.toMatch(/customer|saleId|buyer\.example|"c[123]"|cus_/);
  });

  it('orders by when a commission occurred, not when it was recorded, and pages by (occurredAt, id)', async () => {
    const email = uniqueEmail('lee');
    const added = (await api('POST', `/api/v1/programs/${programId}/partners`, { email, name: 'Lee' })).json();
    const code = added.enrollment.couponCode;
    const now = start.getTime() + 33 * DAY;
    const at = (daysAgo: number) => new Date(now - daysAgo * DAY).toISOString();
    // Recorded in this order; the 10-days-ago sale is recorded last (a backfill) and has the newest id.
    const track = async (customer: string, amount: number, occurredAt: string) => {
      const res = await api('POST', '/api/v1/track/sale', { customer: { externalId: customer, email: `${customer}@buyer.example.com` }, amount, currency: 'USD', invoiceId: `inv-${++invoice}`, couponCode: code, occurredAt });
      expect(res.statusCode).toBe(200);
    };
    await track('l1', 1_000, at(1));
    await track('l2', 2_000, at(2));
    await track('l3', 3_000, at(2));
    await track('l4', 4_000, at(10));
    await track('l5', 5_000, at(0));
    const lee = await portalSignup(email);
    const seen: { amount: number; occurredAt: string; id: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await lee.get(`${base(added.enrollment.id)}/commissions?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      seen.push(...page.data);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen.map((c) => c.amount)).toEqual([500, 100, expect.any(Number), expect.any(Number), 400]);
    expect(new Set(seen.map((c) => c.id)).size).toBe(5);
    const keys = seen.map((c) => [c.occurredAt, c.id] as const);
    const sorted = [...keys].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? 1 : -1) : a[0] < b[0] ? 1 : -1));
    expect(keys).toEqual(sorted);
  });

  it('rejects a cursor that is not from the list', async () => {
    expect((await pat.get(`${base(patEnrollment)}/commissions?cursor=bogus`)).statusCode).toBe(422);
  });
});

describe('portal earnings over time', () => {
  it('gives end-of-day balances from the day before the first entry (zero) to today', async () => {
    const res = await pat.get(`${base(patEnrollment)}/earnings?interval=day`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ currency: 'USD', interval: 'day' });
    expect(body.points).toHaveLength(35);
    expect(body.points[0]).toEqual({ period: '2030-06-09', pending: 0, payable: 0, paid: 0 });
    expect(body.points[1]).toEqual({ period: '2030-06-10', pending: 1500, payable: 0, paid: 0 });
    expect(body.points[31]).toEqual({ period: '2030-07-10', pending: 1500, payable: 0, paid: 0 });
    expect(body.points[32]).toEqual({ period: '2030-07-11', pending: 0, payable: 1500, paid: 0 });
    expect(body.points[34]).toEqual({ period: '2030-07-13', pending: 2000, payable: 1500, paid: 0 });
  });

  it('buckets by month and by week', async () => {
    const month = (await pat.get(`${base(patEnrollment)}/earnings?interval=month`)).json();
    expect(month.points).toEqual([
      { period: '2030-05-01', pending: 0, payable: 0, paid: 0 },
      { period: '2030-06-01', pending: 1500, payable: 0, paid: 0 },
      { period: '2030-07-01', pending: 2000, payable: 1500, paid: 0 },
    ]);
    const week = (await pat.get(`${base(patEnrollment)}/earnings?interval=week`)).json();
    expect(week.points[0]).toEqual({ period: '2030-06-03', pending: 0, payable: 0, paid: 0 }); // a Monday
    expect(week.points[1]).toEqual({ period: '2030-06-10', pending: 1500, payable: 0, paid: 0 });
    expect(week.points.at(-1)).toEqual({ period: '2030-07-08', pending: 2000, payable: 1500, paid: 0 });
  });

  it('rejects an unknown interval', async () => {
    const res = await pat.get(`${base(patEnrollment)}/earnings?interval=year`);
    expect(res.statusCode).toBe(422);
  });
});

describe('portal statements and verification', () => {
  it('returns the chain with running balances and its head, as JSON and CSV', async () => {
    const res = await pat.get(`${base(patEnrollment)}/statement`);
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(s.program).toEqual({ id: programId, name: 'Acme Riders', currency: 'USD' });
    expect(s.lines.length).toBeGreaterThanOrEqual(4);
    expect(s.lines.at(-1).balance).toEqual({ pending: 2000, payable: 1500, paid: 0 });
    expect(s.head).toEqual({ chain: expect.stringContaining(programId), seq: s.lines.at(-1).seq, hash: s.lines.at(-1).hash });
    const csv = await pat.get(`${base(patEnrollment)}/statement.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.trim().split('\r\n').at(-1)).toBe(`chain_head,${s.head.chain},${s.head.seq},${s.head.hash}`);
  });

  it('verifies the chain and finds an earlier statement’s head in it', async () => {
    const earlier = (await pat.get(`${base(patEnrollment)}/statement`)).json().lines[0].hash;
    const res = await pat.post(`${base(patEnrollment)}/statement/verify`, { hash: earlier });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, problems: [], checkedHash: { hash: earlier, foundAtSeq: 1 } });
    expect(res.json().entries).toBeGreaterThanOrEqual(4);
    expect((await pat.post(`${base(patEnrollment)}/statement/verify`, {})).json()).toMatchObject({ ok: true, checkedHash: null });
  });

  it('answers not ok for a hash that is not in the chain, and 422 for a malformed one', async () => {
    const missing = await pat.post(`${base(patEnrollment)}/statement/verify`, { hash: 'a'.repeat(64) });
    expect(missing.json()).toMatchObject({ ok: false, problems: [], checkedHash: { foundAtSeq: null } });
    const bad = await pat.post(`${base(patEnrollment)}/statement/verify`, { hash: 'not-a-hash' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details[0].path).toContain('hash');
  });

  it('detects an entry edited after the statement was issued', async () => {
    const s = (await sam.get(`${base(samEnrollment)}/statement`)).json();
    await ctx.pool.query(`update ledger_entries set kind = 'commission.edited' where chain = $1 and seq = 1`, [s.head.chain]);
    const res = (await sam.post(`${base(samEnrollment)}/statement/verify`, { hash: s.head.hash })).json();
    expect(res.ok).toBe(false);
    expect(res.problems).toContainEqual({ chain: s.head.chain, seq: 1, problem: 'hash_mismatch' });
  });

  it('detects a posting row moved away from the partner, one without an entry, and a deleted head', async () => {
    const s = (await pat.get(`${base(patEnrollment)}/statement`)).json();
    const verify = async () => (await pat.post(`${base(patEnrollment)}/statement/verify`, {})).json();
    const [programPart, partnerPart] = [s.head.chain.slice(0, s.head.chain.indexOf(':')), s.head.chain.slice(s.head.chain.indexOf(':') + 1)];
    expect(await verify()).toMatchObject({ ok: true });
    const lastEntry = `(select id from ledger_entries where chain = $1 and seq = $2)`;

    await ctx.pool.query(`update ledger_postings set partner_id = 'ptn_elsewhere' where line = 0 and entry_id = ${lastEntry}`, [s.head.chain, s.head.seq]);
    expect((await verify()).problems).toEqual([{ chain: s.head.chain, seq: s.head.seq, problem: 'hash_mismatch' }]);
    await ctx.pool.query(`update ledger_postings set partner_id = $3 where line = 0 and entry_id = ${lastEntry}`, [s.head.chain, s.head.seq, partnerPart]);

    const { rows } = await ctx.pool.query<{ workspace_id: string }>('select workspace_id from ledger_entries where chain = $1 limit 1', [s.head.chain]);
    await ctx.pool.query(`insert into ledger_postings (workspace_id, entry_id, line, program_id, partner_id, account, amount) values ($1, 'jen_forged', 0, $2, $3, 'payable', 100000)`, [
      rows[0]!.workspace_id, programPart, partnerPart,
    ]);
    expect((await verify()).problems).toEqual([{ chain: s.head.chain, seq: 0, problem: 'orphan_posting' }]);
    await ctx.pool.query(`delete from ledger_postings where entry_id = 'jen_forged'`);

    await ctx.pool.query('delete from ledger_heads where chain = $1', [s.head.chain]);
    expect((await verify()).problems).toEqual([{ chain: s.head.chain, seq: s.head.seq, problem: 'head_mismatch' }]);
  });
});

describe('isolation between partners', () => {
  it('answers 404 for another partner’s enrollment on every earnings endpoint', async () => {
    for (const path of ['balance', 'commissions', 'earnings', 'statement', 'statement.csv']) {
      const res = await pat.get(`${base(samEnrollment)}/${path}`);
      expect(res.statusCode, path).toBe(404);
    }
    expect((await pat.post(`${base(samEnrollment)}/statement/verify`, {})).statusCode).toBe(404);
  });

  it('needs a signed-in user', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: `${base(patEnrollment)}/balance` });
    expect(res.statusCode).toBe(401);
  });

  it('is not reachable with a brand API key', async () => {
    const res = await api('GET', `${base(patEnrollment)}/balance`);
    expect([401, 403]).toContain(res.statusCode);
  });
});

describe('earningsSeries (pure)', () => {
  const line = (at: string, pending: number) => ({ at, balance: { pending, payable: 0, paid: 0 } });
  it('is empty without entries', () => {
    expect(earningsSeries([], 'day', start)).toEqual([]);
  });
  it('carries the balance across buckets without entries and keeps the last entry of a bucket', () => {
    const points = earningsSeries([line('2030-01-01T10:00:00Z', 100), line('2030-01-01T23:59:59Z', 300), line('2030-01-03T00:00:00Z', 50)], 'day', new Date('2030-01-04T12:00:00Z'));
    expect(points.map((p) => [p.period, p.pending])).toEqual([['2029-12-31', 0], ['2030-01-01', 300], ['2030-01-02', 300], ['2030-01-03', 50], ['2030-01-04', 50]]);
  });
  it('starts weeks on Monday and months on the first', () => {
    expect(bucketStart(new Date('2030-06-16T23:00:00Z'), 'week').toISOString()).toBe('2030-06-10T00:00:00.000Z');
    expect(bucketStart(new Date('2030-06-10T00:00:00Z'), 'week').toISOString()).toBe('2030-06-10T00:00:00.000Z');
    expect(bucketStart(new Date('2030-12-31T23:59:59Z'), 'month').toISOString()).toBe('2030-12-01T00:00:00.000Z');
  });
  it('keeps only the newest 400 buckets', () => {
    const points = earningsSeries([line('2020-01-01T00:00:00Z', 1)], 'day', new Date('2030-01-01T00:00:00Z'));
    expect(points).toHaveLength(400);
    expect(points.at(-1)!.period).toBe('2030-01-01');
  });
});
