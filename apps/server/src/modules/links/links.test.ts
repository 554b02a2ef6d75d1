import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { addPartner, seedProgramWithPartner, type SeededProgram } from './test-fixtures.js';

let ctx: TestContext;
let brand: Actor;
let other: Actor;
let seeded: SeededProgram;
let call: ReturnType<typeof asKey>;

beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app);
  other = await signupActor(ctx.app);
  seeded = await seedProgramWithPartner(ctx.pool, brand.workspaceId, {
    destinationUrl: 'https://shop.example.com/welcome',
    allowedDomains: ['partner-blog.io'],
  });
  call = asKey(ctx.app, brand.apiKey);
});
afterAll(async () => ctx?.close());

const linkBody = (extra: Record<string, unknown> = {}) => ({ programId: seeded.programId, partnerId: seeded.partnerId, ...extra });

describe('POST /api/v1/links', () => {
  it('creates a link with a random readable key, defaulting to the program destination', async () => {
    const res = await call('POST', '/api/v1/links', linkBody());
    expect(res.statusCode).toBe(201);
    const link = res.json();
    expect(link).toMatchObject({
      id: expect.stringMatching(/^lnk_/),
      key: expect.stringMatching(/^[a-hj-km-np-z2-9]{7}$/),
      destinationUrl: 'https://shop.example.com/welcome',
      programId: seeded.programId,
      partnerId: seeded.partnerId,
      archived: false,
      isDefault: false,
      utm: null,
    });
    expect(link.shortUrl).toBe(`http://tandem.test/r/${link.key}`);
  });

  it('takes a custom key, an allowed destination and UTM tags', async () => {
    const res = await call(
      'POST',
      '/api/v1/links',
      linkBody({
        key: 'Spring-Sale_1',
        destinationUrl: 'https://news.partner-blog.io/post?id=4',
        utm: { source: 'blog', campaign: 'spring' },
      }),
    );
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      key: 'Spring-Sale_1',
      destinationUrl: 'https://news.partner-blog.io/post?id=4&utm_source=blog&utm_campaign=spring',
      utm: { source: 'blog', campaign: 'spring' },
    });
  });

  it('refuses a destination outside the program domains with 422 naming destinationUrl', async () => {
    for (const destinationUrl of [
      'https://evil.example.net/',
      'https://shop.example.com.evil.net/',
      'https://partner-blog.io.evil.net/x',
    ]) {
      const res = await call('POST', '/api/v1/links', linkBody({ destinationUrl }));
      expect(res.statusCode).toBe(422);
      expect(res.json().error.details).toEqual([expect.objectContaining({ path: 'destinationUrl' })]);
    }
    const scheme = await call('POST', '/api/v1/links', linkBody({ destinationUrl: 'javascript:alert(1)' }));
    expect(scheme.statusCode).toBe(422);
    expect(scheme.json().error.details[0].path).toBe('destinationUrl');
  });

  it('answers 409 for a taken key, whoever holds it', async () => {
    expect((await call('POST', '/api/v1/links', linkBody({ key: 'taken-key' }))).statusCode).toBe(201);
    const again = await call('POST', '/api/v1/links', linkBody({ key: 'taken-key' }));
    expect(again.statusCode).toBe(409);
    expect(again.json().error.details).toEqual([expect.objectContaining({ path: 'key' })]);
    const otherSeed = await seedProgramWithPartner(ctx.pool, other.workspaceId);
    const elsewhere = await asKey(ctx.app, other.apiKey)('POST', '/api/v1/links', {
      programId: otherSeed.programId,
      partnerId: otherSeed.partnerId,
      key: 'taken-key',
    });
    expect(elsewhere.statusCode).toBe(409);
  });

  it('refuses a bad key, unknown fields and missing ids with 422', async () => {
    const res = await call('POST', '/api/v1/links', { programId: seeded.programId, key: '../x', color: 'red' });
    expect(res.statusCode).toBe(422);
    const paths = res
      .json()
      .error.details.map((d: { path: string }) => d.path)
      .sort();
    expect(paths).toEqual(['color', 'key', 'partnerId']);
  });

  it('needs the partner approved in the program', async () => {
    const invited = await addPartner(ctx.pool, brand.workspaceId, seeded.programId, undefined, undefined, 'invited');
    const res = await call('POST', '/api/v1/links', linkBody({ partnerId: invited }));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details).toEqual([{ path: 'partnerId', message: 'is invited in this program, not approved' }]);
    const stranger = await call('POST', '/api/v1/links', linkBody({ partnerId: 'ptn_01jd0000000000000000000000' }));
    expect(stranger.statusCode).toBe(404);
    expect(stranger.json().error.details[0]).toEqual({ path: 'partnerId', message: 'is not a partner of this workspace' });
  });

  it("answers 404 for another workspace's program", async () => {
    const res = await asKey(ctx.app, other.apiKey)('POST', '/api/v1/links', linkBody());
    expect(res.statusCode).toBe(404);
    expect(res.json().error.details[0].path).toBe('programId');
  });

  it('needs the write scope', async () => {
    const key = await call('POST', '/api/v1/api-keys', { name: 'read only', scopes: ['read'] });
    const res = await asKey(ctx.app, key.json().key)('POST', '/api/v1/links', linkBody());
    expect(res.statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/links', payload: linkBody() })).statusCode).toBe(401);
  });
});

describe('GET, PATCH /api/v1/links/:id', () => {
  it('reads a link and hides it from other workspaces', async () => {
    const created = (await call('POST', '/api/v1/links', linkBody())).json();
    const res = await call('GET', `/api/v1/links/${created.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(created);
    const foreign = asKey(ctx.app, other.apiKey);
    expect((await foreign('GET', `/api/v1/links/${created.id}`)).statusCode).toBe(404);
    expect((await foreign('PATCH', `/api/v1/links/${created.id}`, { archived: true })).statusCode).toBe(404);
    expect((await foreign('GET', `/api/v1/links/${created.id}/qr.svg`)).statusCode).toBe(404);
    expect((await call('GET', `/api/v1/links/lnk_01jd0000000000000000000000`)).statusCode).toBe(404);
  });

  it('changes the destination inside the program domains, keeping UTM tags', async () => {
    const created = (await call('POST', '/api/v1/links', linkBody({ utm: { medium: 'email' } }))).json();
    const res = await call('PATCH', `/api/v1/links/${created.id}`, { destinationUrl: 'https://shop.example.com/new' });
    expect(res.statusCode).toBe(200);
    expect(res.json().destinationUrl).toBe('https://shop.example.com/new?utm_medium=email');
    const bad = await call('PATCH', `/api/v1/links/${created.id}`, { destinationUrl: 'https://elsewhere.example.org/' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details[0].path).toBe('destinationUrl');
    const empty = await call('PATCH', `/api/v1/links/${created.id}`, {});
    expect(empty.statusCode).toBe(422);
  });

  it('archives and restores, and writes both to the audit log', async () => {
    const created = (await call('POST', '/api/v1/links', linkBody())).json();
    const archived = await call('PATCH', `/api/v1/links/${created.id}`, { archived: true });
    expect(archived.json().archived).toBe(true);
    const restored = await call('PATCH', `/api/v1/links/${created.id}`, { archived: false });
    expect(restored.json().archived).toBe(false);
    const { rows } = await ctx.pool.query('select action from audit_log where workspace_id = $1 and target_id = $2 order by id', [
      brand.workspaceId,
      created.id,
    ]);
    expect(rows.map((r) => r.action)).toEqual(['link.created', 'link.archived', 'link.restored']);
  });
});

describe('GET /api/v1/links', () => {
  it('lists by program and partner, archived apart, paginated newest first', async () => {
    const mine = await seedProgramWithPartner(ctx.pool, brand.workspaceId);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await call('POST', '/api/v1/links', { programId: mine.programId, partnerId: mine.partnerId })).json().id);
    await call('PATCH', `/api/v1/links/${ids[0]}`, { archived: true });
    const first = await call('GET', `/api/v1/links?programId=${mine.programId}&partnerId=${mine.partnerId}&limit=1`);
    expect(first.statusCode).toBe(200);
    expect(first.json().data.map((l: { id: string }) => l.id)).toEqual([ids[2]]);
    const second = await call('GET', `/api/v1/links?programId=${mine.programId}&limit=1&cursor=${first.json().nextCursor}`);
    expect(second.json()).toEqual({ data: [expect.objectContaining({ id: ids[1] })], nextCursor: null });
    const archived = await call('GET', `/api/v1/links?programId=${mine.programId}&archived=true`);
    expect(archived.json().data.map((l: { id: string }) => l.id)).toEqual([ids[0]]);
    const foreign = await asKey(ctx.app, other.apiKey)('GET', `/api/v1/links?programId=${mine.programId}`);
    expect(foreign.json().data).toEqual([]);
    expect((await call('GET', '/api/v1/links?archived=maybe')).statusCode).toBe(422);
  });
});

describe('POST /api/v1/links/bulk', () => {
  it('creates every link at once', async () => {
    const res = await call('POST', '/api/v1/links/bulk', {
      links: [linkBody({ key: 'bulk-a' }), linkBody({ key: 'bulk-b', utm: { source: 'x' } }), linkBody()],
    });
    expect(res.statusCode).toBe(201);
    const data = res.json().data;
    expect(data).toHaveLength(3);
    expect(data.map((l: { key: string }) => l.key)).toEqual(expect.arrayContaining(['bulk-a', 'bulk-b']));
  });

  it('creates none when any item is bad, naming each by index', async () => {
    const before = await ctx.pool.query('select count(*)::int as n from links where workspace_id = $1', [brand.workspaceId]);
    const res = await call('POST', '/api/v1/links/bulk', {
      links: [
        linkBody({ key: 'bulk-ok' }),
        linkBody({ destinationUrl: 'https://evil.example.net/' }),
        linkBody({ key: 'bulk-a' }),
        linkBody({ partnerId: 'ptn_01jd0000000000000000000000' }),
      ],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details.map((d: { path: string }) => d.path)).toEqual([
      'links.1.destinationUrl',
      'links.2.key',
      'links.3.partnerId',
    ]);
    const after = await ctx.pool.query('select count(*)::int as n from links where workspace_id = $1', [brand.workspaceId]);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('reports duplicate keys inside one call as a conflict', async () => {
    const res = await call('POST', '/api/v1/links/bulk', {
      links: [linkBody({ key: 'twice-in-bulk' }), linkBody({ key: 'twice-in-bulk' })],
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.details).toEqual([{ path: 'links.1.key', message: 'is taken' }]);
  });

  it('validates shape per item and caps the batch at 500', async () => {
    const res = await call('POST', '/api/v1/links/bulk', {
      links: [linkBody(), { programId: seeded.programId, partnerId: seeded.partnerId, destinationUrl: 'nope' }],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details[0].path).toBe('links.1.destinationUrl');
    const tooMany = await call('POST', '/api/v1/links/bulk', { links: Array.from({ length: 501 }, () => linkBody()) });
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json().error.details[0].path).toBe('links');
  });
});

describe('QR codes', () => {
  it('renders the short URL as SVG and PNG', async () => {
    const created = (await call('POST', '/api/v1/links', linkBody())).json();
    const svg = await call('GET', `/api/v1/links/${created.id}/qr.svg`);
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toMatch(/^<svg[^>]*viewBox/);
    expect(svg.body).toContain('width="512"');
    const png = await call('GET', `/api/v1/links/${created.id}/qr.png?size=128`);
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.rawPayload.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.rawPayload.readUInt32BE(16)).toBe(128); // IHDR width
    expect((await call('GET', `/api/v1/links/${created.id}/qr.png?size=5`)).statusCode).toBe(422);
  });
});

it('documents the links endpoints in the OpenAPI document', async () => {
  const doc = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      '/api/v1/links',
      '/api/v1/links/bulk',
      '/api/v1/links/{id}',
      '/api/v1/links/{id}/qr.svg',
      '/api/v1/links/{id}/qr.png',
    ]),
  );
  expect(doc.paths['/api/v1/links/{id}/qr.png'].get.responses['200'].content).toHaveProperty('image/png');
});
