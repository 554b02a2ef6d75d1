import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, uniqueEmail, type Actor, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let programId: string;
beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
  api = asKey(ctx.app, brand.apiKey);
  const program = await api('POST', '/api/v1/programs', {
    name: 'Acme Partners',
    currency: 'USD',
    destinationUrl: 'https://acme.example.com/',
    allowedDomains: ['acme-blog.example.org'],
    terms: { text: 'Terms v1' },
    status: 'active',
  });
  programId = program.json().id;
});
afterAll(async () => ctx?.close());

describe('adding partners', () => {
  it('adds an approved partner with a default link, a coupon code and the terms in force accepted', async () => {
    const email = uniqueEmail('Ada');
    const res = await api('POST', `/api/v1/programs/${programId}/partners`, { email, name: 'Ada Lovelace', tags: ['vip', 'vip', 'blog'] });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      partner: { id: expect.stringMatching(/^ptn_/), email: email.toLowerCase(), name: 'Ada Lovelace', tags: ['vip', 'blog'] },
      enrollment: { id: expect.stringMatching(/^enr_/), status: 'approved', couponCode: expect.stringMatching(/^ADALOVEL\d{4}$/) },
      link: { id: expect.stringMatching(/^lnk_/), key: expect.any(String), shortUrl: expect.stringMatching(/^http:\/\/tandem\.test\/r\//) },
    });
    const link = await ctx.pool.query('select destination_url, is_default from links where workspace_id = $1 and id = $2', [brand.workspaceId, body.link.id]);
    expect(link.rows[0]).toEqual({ destination_url: 'https://acme.example.com/', is_default: true });
    const enrollment = (await api('GET', `/api/v1/enrollments/${body.enrollment.id}`)).json();
    expect(enrollment).toMatchObject({ status: 'approved', acceptedTermsVersion: 1, approvedAt: expect.any(String), link: { id: body.link.id } });
    const events = await ctx.pool.query(`select type, data from outbox_events where workspace_id = $1 and type = 'partner.enrolled'`, [brand.workspaceId]);
    expect(events.rows.map((e) => e.data.enrollmentId)).toContain(body.enrollment.id);
  });

  it('adds an invited partner without link or coupon, and approval later equips it', async () => {
    const res = await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'Grace Hopper', status: 'invited' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ enrollment: { status: 'invited', couponCode: null }, link: null });
    const approved = await api('POST', `/api/v1/enrollments/${res.json().enrollment.id}/status`, { status: 'approved', reason: 'signed the contract' });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', statusReason: 'signed the contract', couponCode: expect.stringMatching(/^GRACEHOP/), link: { shortUrl: expect.any(String) }, acceptedTermsVersion: 1 });
  });

  it('refuses a default-link destination outside the program’s domains with 422', async () => {
    const res = await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'Eve', destinationUrl: 'https://evil.example.net/phish' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details).toEqual([expect.objectContaining({ path: 'destinationUrl' })]);
    const allowed = await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'Blogger', destinationUrl: 'https://acme-blog.example.org/post' });
    expect(allowed.statusCode).toBe(201);
  });

  it('reuses the partner by email across programs and refuses a second enrollment in one program with 409', async () => {
    const email = uniqueEmail();
    const first = (await api('POST', `/api/v1/programs/${programId}/partners`, { email, name: 'Linus' })).json();
    const other = (await api('POST', '/api/v1/programs', { name: 'Second', currency: 'EUR', destinationUrl: 'https://acme.example.com/' })).json();
    const second = (await api('POST', `/api/v1/programs/${other.id}/partners`, { email, name: 'Linus T' })).json();
    expect(second.partner.id).toBe(first.partner.id);
    expect(second.enrollment.couponCode).not.toBe(first.enrollment.couponCode);
    const again = await api('POST', `/api/v1/programs/${programId}/partners`, { email, name: 'Linus' });
    expect(again.statusCode).toBe(409);
  });

  it('gives every enrollment a distinct coupon code even for identical names', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'Same Name' });
      codes.add(res.json().enrollment.couponCode);
    }
    expect(codes.size).toBe(12);
  });

  it('refuses unknown fields and a closed program', async () => {
    const unknown = await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'X', commission: 50 });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().error.details[0].path).toBe('commission');
    const closed = (await api('POST', '/api/v1/programs', { name: 'Closed', currency: 'USD', destinationUrl: 'https://acme.example.com/' })).json();
    const invited = (await api('POST', `/api/v1/programs/${closed.id}/partners`, { email: uniqueEmail(), name: 'Waiting', status: 'invited' })).json();
    await api('PATCH', `/api/v1/programs/${closed.id}`, { status: 'closed' });
    expect((await api('POST', `/api/v1/programs/${closed.id}/partners`, { email: uniqueEmail(), name: 'Late' })).statusCode).toBe(422);
    const approveLate = await api('POST', `/api/v1/enrollments/${invited.enrollment.id}/status`, { status: 'approved' });
    expect(approveLate.statusCode).toBe(422);
    expect(approveLate.json().error.details[0].path).toBe('status');
  });
});

describe('managing enrollments', () => {
  it('suspends, reinstates and bans with reason and actor on every transition', async () => {
    const added = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'Mallory' })).json();
    const id = added.enrollment.id;
    expect((await api('POST', `/api/v1/enrollments/${id}/status`, { status: 'suspended', reason: 'suspicious traffic' })).json().status).toBe('suspended');
    const reinstated = (await api('POST', `/api/v1/enrollments/${id}/status`, { status: 'approved', reason: 'cleared' })).json();
    expect(reinstated).toMatchObject({ status: 'approved', couponCode: added.enrollment.couponCode, link: { id: added.link.id } });
    expect((await api('POST', `/api/v1/enrollments/${id}/status`, { status: 'banned', reason: 'fraud confirmed' })).json().status).toBe('banned');
    const events = (await api('GET', `/api/v1/enrollments/${id}/events`)).json().data;
    expect(events.map((e: { fromStatus: string | null; toStatus: string; reason: string }) => [e.fromStatus, e.toStatus, e.reason])).toEqual([
      [null, 'approved', 'added by the brand'],
      ['approved', 'suspended', 'suspicious traffic'],
      ['suspended', 'approved', 'cleared'],
      ['approved', 'banned', 'fraud confirmed'],
    ]);
    const keyId = (await ctx.pool.query('select id from api_keys where workspace_id = $1', [brand.workspaceId])).rows[0].id;
    expect(events.every((e: { actor: string }) => e.actor === keyId)).toBe(true);
    // One partner.enrolled only: a reinstatement is not a new enrollment.
    const enrolled = await ctx.pool.query(`select count(*)::int as n from outbox_events where workspace_id = $1 and type = 'partner.enrolled' and data->>'enrollmentId' = $2`, [brand.workspaceId, id]);
    expect(enrolled.rows[0].n).toBe(1);
    const audit = await ctx.pool.query(`select action from audit_log where workspace_id = $1 and target_id = $2 order by id`, [brand.workspaceId, id]);
    expect(audit.rows.map((r) => r.action)).toEqual(['enrollment.approved', 'enrollment.suspended', 'enrollment.approved', 'enrollment.banned']);
  });

  it('refuses an invalid transition with 422 naming status (a ban is final)', async () => {
    const added = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'Trudy' })).json();
    await api('POST', `/api/v1/enrollments/${added.enrollment.id}/status`, { status: 'banned' });
    const res = await api('POST', `/api/v1/enrollments/${added.enrollment.id}/status`, { status: 'approved' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details[0].path).toBe('status');
  });

  it('sets tags and filters by them, by status and by program', async () => {
    const added = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'Tagged' })).json();
    const patched = await api('PATCH', `/api/v1/enrollments/${added.enrollment.id}`, { tags: ['podcast', 'tier-1'] });
    expect(patched.json().tags).toEqual(['podcast', 'tier-1']);
    const byTag = (await api('GET', `/api/v1/enrollments?tag=podcast`)).json().data;
    expect(byTag.map((e: { id: string }) => e.id)).toEqual([added.enrollment.id]);
    const partners = (await api('GET', `/api/v1/programs/${programId}/partners?tag=tier-1`)).json().data;
    expect(partners).toEqual([expect.objectContaining({ id: added.enrollment.id, partner: expect.objectContaining({ name: 'Tagged' }) })]);
    const banned = (await api('GET', `/api/v1/enrollments?status=banned&programId=${programId}`)).json().data;
    expect(banned.every((e: { status: string }) => e.status === 'banned')).toBe(true);
    expect(banned.length).toBeGreaterThan(0);
  });

  it('pages through a program’s partners', async () => {
    const first = (await api('GET', `/api/v1/programs/${programId}/partners?limit=2`)).json();
    expect(first.data).toHaveLength(2);
    const second = (await api('GET', `/api/v1/programs/${programId}/partners?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.data[0].id < first.data[1].id).toBe(true);
  });

  it('answers another workspace’s program and enrollments with 404', async () => {
    const added = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'Private' })).json();
    const other = asKey(ctx.app, (await signupActor(ctx.app)).apiKey);
    const id = added.enrollment.id;
    expect((await other('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(), name: 'Intruder' })).statusCode).toBe(404);
    expect((await other('GET', `/api/v1/programs/${programId}/partners`)).statusCode).toBe(404);
    expect((await other('GET', `/api/v1/enrollments/${id}`)).statusCode).toBe(404);
    expect((await other('POST', `/api/v1/enrollments/${id}/status`, { status: 'banned' })).statusCode).toBe(404);
    expect((await other('PATCH', `/api/v1/enrollments/${id}`, { tags: [] })).statusCode).toBe(404);
    expect((await other('GET', `/api/v1/enrollments/${id}/events`)).statusCode).toBe(404);
    expect((await other('GET', `/api/v1/enrollments`)).json().data).toEqual([]);
  });
});
