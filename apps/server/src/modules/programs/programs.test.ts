import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
  api = asKey(ctx.app, brand.apiKey);
});
afterAll(async () => ctx?.close());

const baseProgram = { name: 'Acme Referral', currency: 'USD', destinationUrl: 'https://acme.example.com/shop' };

describe('create a program', () => {
  it('creates it with defaults, version 1 rules and terms, and a slug from the name', async () => {
    const res = await api('POST', '/api/v1/programs', {
      ...baseProgram,
      allowedDomains: ['https://Blog.Acme.example.com/'],
      rules: { sale: { type: 'percentage', amount: 20 } },
      terms: { text: 'Be nice.' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      id: expect.stringMatching(/^prg_/),
      name: 'Acme Referral',
      slug: 'acme-referral',
      currency: 'USD',
      status: 'draft',
      allowedDomains: ['blog.acme.example.com'],
      attribution: { windowDays: 30, model: 'last_touch' },
      rules: { sale: { type: 'percentage', amount: 20 } },
      rulesVersion: 1,
      terms: { text: 'Be nice.', version: 1 },
      termsVersion: 1,
      termsGraceDays: 14,
      approval: { mode: 'manual' },
    });
    const again = await api('POST', '/api/v1/programs', baseProgram);
    expect(again.json().slug).toBe('acme-referral-2');
  });

  it('derives a slug even from a name without letters', async () => {
    const res = await api('POST', '/api/v1/programs', { ...baseProgram, name: '★★★' });
    expect(res.json().slug).toMatch(/^program(-\d+)?$/);
  });

  it('refuses an invalid rules document with 422 naming the path', async () => {
    const res = await api('POST', '/api/v1/programs', { ...baseProgram, rules: { sale: { type: 'flat', amount: 12.5 } } });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'rules.sale.amount' })]));
    const unknownKey = await api('POST', '/api/v1/programs', { ...baseProgram, rules: { sale: { type: 'flat', amount: 100, bonus: 1 } } });
    expect(unknownKey.statusCode).toBe(422);
    expect(unknownKey.json().error.details[0].path).toBe('rules.sale.bonus');
  });

  it('refuses a non-http destination and a malformed allowed domain with 422', async () => {
    const res = await api('POST', '/api/v1/programs', { ...baseProgram, destinationUrl: 'javascript:alert(1)', allowedDomains: ['not a domain'] });
    expect(res.statusCode).toBe(422);
    const paths = res.json().error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['allowedDomains.0', 'destinationUrl']);
  });

  it('refuses an explicit duplicate slug with 409', async () => {
    expect((await api('POST', '/api/v1/programs', { ...baseProgram, slug: 'taken-slug' })).statusCode).toBe(201);
    const other = await signupActor(ctx.app);
    const res = await asKey(ctx.app, other.apiKey)('POST', '/api/v1/programs', { ...baseProgram, slug: 'taken-slug' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.details).toEqual([{ path: 'slug', message: 'is taken' }]);
  });

  it('validates a council: reviewers must be members and quorum cannot exceed them', async () => {
    const tooHigh = await api('POST', '/api/v1/programs', { ...baseProgram, approval: { mode: 'council', quorum: 2, reviewers: [brand.userId] } });
    expect(tooHigh.statusCode).toBe(422);
    expect(tooHigh.json().error.details[0].path).toBe('approval.quorum');
    const stranger = await api('POST', '/api/v1/programs', { ...baseProgram, approval: { mode: 'council', quorum: 1, reviewers: ['usr_nobody'] } });
    expect(stranger.statusCode).toBe(422);
    expect(stranger.json().error.details[0].path).toBe('approval.reviewers.0');
  });
});

describe('versions and changes', () => {
  it('a change of rules or terms creates a new immutable version with readable history', async () => {
    const created = (await api('POST', '/api/v1/programs', { ...baseProgram, rules: { lead: { type: 'flat', amount: 100 } }, terms: { text: 'v1 terms' } })).json();
    const renamed = await api('PATCH', `/api/v1/programs/${created.id}`, { name: 'Renamed', rules: { lead: { type: 'flat', amount: 100 } } });
    expect(renamed.json()).toMatchObject({ name: 'Renamed', rulesVersion: 1, termsVersion: 1 });
    const changed = await api('PATCH', `/api/v1/programs/${created.id}`, { rules: { lead: { type: 'flat', amount: 250 } }, terms: { text: 'v2 terms' } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ rulesVersion: 2, termsVersion: 2, rules: { lead: { amount: 250 } }, terms: { text: 'v2 terms', version: 2 } });
    const rules = (await api('GET', `/api/v1/programs/${created.id}/rules-versions`)).json().data;
    expect(rules.map((v: { version: number; rules: { lead: { amount: number } } }) => [v.version, v.rules.lead.amount])).toEqual([[2, 250], [1, 100]]);
    const terms = (await api('GET', `/api/v1/programs/${created.id}/terms-versions`)).json().data;
    expect(terms.map((v: { version: number; text: string }) => [v.version, v.text])).toEqual([[2, 'v2 terms'], [1, 'v1 terms']]);
    const audit = await ctx.pool.query(`select action from audit_log where workspace_id = $1 and target_id = $2 order by id`, [brand.workspaceId, created.id]);
    expect(audit.rows.map((r) => r.action)).toEqual(expect.arrayContaining(['program.created', 'program.rules_changed', 'program.terms_changed']));
  });

  it('refuses an invalid rules document on PATCH with 422 naming the path and keeps the version', async () => {
    const created = (await api('POST', '/api/v1/programs', baseProgram)).json();
    const res = await api('PATCH', `/api/v1/programs/${created.id}`, { rules: { tiers: { period: 'week', levels: [] } } });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['rules.tiers.period', 'rules.tiers.levels']));
    expect((await api('GET', `/api/v1/programs/${created.id}`)).json().rulesVersion).toBe(1);
  });

  it('follows draft → active ⇄ paused → closed and refuses other transitions with 422', async () => {
    const created = (await api('POST', '/api/v1/programs', baseProgram)).json();
    const to = (status: string) => api('PATCH', `/api/v1/programs/${created.id}`, { status });
    expect((await to('paused')).statusCode).toBe(422);
    expect((await to('active')).json().status).toBe('active');
    expect((await to('paused')).json().status).toBe('paused');
    expect((await to('active')).json().status).toBe('active');
    expect((await to('closed')).json().status).toBe('closed');
    const reopen = await to('active');
    expect(reopen.statusCode).toBe(422);
    expect(reopen.json().error.details[0].path).toBe('status');
  });

  it('refuses renaming onto a taken slug with 409', async () => {
    const a = (await api('POST', '/api/v1/programs', { ...baseProgram, slug: 'slug-a' })).json();
    await api('POST', '/api/v1/programs', { ...baseProgram, slug: 'slug-b' });
    const res = await api('PATCH', `/api/v1/programs/${a.id}`, { slug: 'slug-b' });
    expect(res.statusCode).toBe(409);
  });
});

describe('reading programs', () => {
  it('publishes every endpoint of this module family in the OpenAPI document', async () => {
    const doc = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    for (const path of ['/api/v1/programs', '/api/v1/programs/{id}/rules-versions', '/api/v1/programs/{id}/partners', '/api/v1/public/programs/{slug}/applications', '/api/v1/applications/{id}/votes', '/api/v1/portal/enrollments/{id}/calendar.ics', '/api/v1/partnerships/{id}/balance']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });

  it('lists with pagination and filters by status', async () => {
    const other = await signupActor(ctx.app);
    const otherApi = asKey(ctx.app, other.apiKey);
    for (const name of ['One', 'Two', 'Three']) await otherApi('POST', '/api/v1/programs', { ...baseProgram, name, status: name === 'Two' ? 'active' : 'draft' });
    const first = (await otherApi('GET', '/api/v1/programs?limit=2')).json();
    expect(first.data.map((p: { name: string }) => p.name)).toEqual(['Three', 'Two']);
    const second = (await otherApi('GET', `/api/v1/programs?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second).toEqual({ data: [expect.objectContaining({ name: 'One' })], nextCursor: null });
    const active = (await otherApi('GET', '/api/v1/programs?status=active')).json();
    expect(active.data.map((p: { name: string }) => p.name)).toEqual(['Two']);
  });

  it('answers another workspace’s program with 404 on read, change and history', async () => {
    const created = (await api('POST', '/api/v1/programs', baseProgram)).json();
    const other = asKey(ctx.app, (await signupActor(ctx.app)).apiKey);
    expect((await other('GET', `/api/v1/programs/${created.id}`)).statusCode).toBe(404);
    expect((await other('PATCH', `/api/v1/programs/${created.id}`, { name: 'Mine' })).statusCode).toBe(404);
    expect((await other('GET', `/api/v1/programs/${created.id}/rules-versions`)).statusCode).toBe(404);
    expect((await other('GET', `/api/v1/programs/${created.id}/terms-versions`)).statusCode).toBe(404);
  });

  it('shows a public summary by slug without auth, and 404 for an unknown slug', async () => {
    const created = (await api('POST', '/api/v1/programs', { ...baseProgram, slug: 'public-acme', status: 'active', terms: { text: 'T' } })).json();
    const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/public/programs/public-acme' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: created.name, brand: 'Acme Bikes', acceptingApplications: true, approvalMode: 'manual', terms: { text: 'T', version: 1 } });
    expect(res.json()).not.toHaveProperty('approval');
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/public/programs/nope-nope' })).statusCode).toBe(404);
  });
});
