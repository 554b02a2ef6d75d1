import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let programId: string;
let partnerIds: string[];

const csvRows = (body: string) => body.trimEnd().split('\r\n').map((line) => line.split(','));

beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
  programId = (await api('POST', '/api/v1/programs', { name: 'Export program', currency: 'USD', destinationUrl: 'https://brand.example/' })).json().id;
  partnerIds = [];
  for (const [i, name] of ['Ann', '=cmd|calc', 'Bo, "the" Builder'].entries()) {
    const res = await api('POST', `/api/v1/programs/${programId}/partners`, { email: `p${i}-${brand.workspaceId}@partners.example`, name });
    expect(res.statusCode).toBe(201);
    partnerIds.push(res.json().partner.id);
  }
  // More rows than one keyset batch, straight into B's tables.
  await ctx.pool.query(
    `insert into commissions (workspace_id, id, program_id, partner_id, key, kind, amount, reversed_amount, currency, status, rules_version, occurred_at, payable_at)
     select $1, 'com_' || lpad(g::text, 26, '0'), $2, $3, 'k' || g, 'sale', 100 + g, case when g = 7 then 30 else 0 end, 'USD',
            case when g % 2 = 0 then 'payable' else 'pending' end, 1, now(), now()
       from generate_series(1, 1500) g`,
    [brand.workspaceId, programId, partnerIds[0]],
  );
  await ctx.pool.query(
    `insert into payouts (workspace_id, id, batch_id, program_id, partner_id, amount, currency, status, reference)
     values ($1, 'pay_00000000000000000000000001', 'pbt_1', $2, $3, 5000, 'USD', 'paid', 'wire-77'),
            ($1, 'pay_00000000000000000000000002', 'pbt_1', $2, $4, -120, 'USD', 'pending', null)`,
    [brand.workspaceId, programId, partnerIds[0], partnerIds[1]],
  );
});
afterAll(async () => ctx?.close());

describe('CSV exports', () => {
  it('exports partners with their enrollments, defusing formulas and quoting', async () => {
    const res = await api('GET', `/api/v1/partners.csv?programId=${programId}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="partners.csv"');
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('partner_id,email,name,website,partner_created_at,program_id,enrollment_id,status,tags,coupon_code,enrolled_at');
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => l.split(',')[0])).toEqual(['partner_id', ...[...partnerIds].sort()]);
    expect(res.body).toContain(",'=cmd|calc,");
    expect(res.body).toContain(',"Bo, ""the"" Builder",');
    expect(lines.slice(1).every((l) => l.includes(`,${programId},`) && l.includes(',approved,'))).toBe(true);
    const none = await api('GET', '/api/v1/partners.csv?programId=prg_none');
    expect(none.body.trimEnd().split('\r\n')).toHaveLength(1);
  });

  it('streams commissions across keyset batches with filters', async () => {
    const res = await api('GET', '/api/v1/commissions.csv');
    expect(res.statusCode).toBe(200);
    const rows = csvRows(res.body);
    expect(rows[0]!.slice(0, 3)).toEqual(['commission_id', 'program_id', 'partner_id']);
    expect(rows).toHaveLength(1501);
    const ids = rows.slice(1).map((r) => r[0]!);
    expect(new Set(ids).size).toBe(1500);
    expect(ids).toEqual([...ids].sort());
    const seventh = rows.find((r) => r[0] === `com_${'7'.padStart(26, '0')}`)!;
    expect(seventh.slice(6, 10)).toEqual(['107', '30', '0', '77']);
    const payable = csvRows((await api('GET', '/api/v1/commissions.csv?status=payable')).body);
    expect(payable).toHaveLength(751);
    expect(csvRows((await api('GET', `/api/v1/commissions.csv?partnerId=${partnerIds[1]}`)).body)).toHaveLength(1);
  });

  it('exports payouts with negative amounts kept as numbers', async () => {
    const rows = csvRows((await api('GET', `/api/v1/payouts.csv?programId=${programId}`)).body);
    expect(rows).toHaveLength(3);
    expect(rows[1]!.slice(5, 9)).toEqual(['5000', 'USD', 'paid', 'wire-77']);
    expect(rows[2]![5]).toBe('-120');
    expect(csvRows((await api('GET', '/api/v1/payouts.csv?status=paid')).body)).toHaveLength(2);
  });

  it('shows only the caller’s workspace, refuses bad filters and anonymous callers', async () => {
    const stranger = asKey(ctx.app, (await signupActor(ctx.app)).apiKey);
    for (const url of ['/api/v1/partners.csv', '/api/v1/commissions.csv', '/api/v1/payouts.csv']) {
      const res = await stranger('GET', url);
      expect(res.statusCode).toBe(200);
      expect(res.body.trimEnd().split('\r\n')).toHaveLength(1);
      expect((await ctx.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    }
    const bad = await api('GET', '/api/v1/commissions.csv?status=lost&colour=red');
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(['colour', 'status']);
  });
});
