import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { clickTime, uuidFromClickId } from '@tandem/core';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { buildApp } from '../../app.js';
import { openPool } from '../../db/database.js';
import * as schema from '../../db/schema.js';
import { makeServices } from '../../services.js';
import { clickUuidFromCookieHeader, redirectRuntimeOf, registerRedirect } from './redirect.js';
import { seedProgramWithPartner, type SeededProgram } from './test-fixtures.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

let ctx: TestContext;
let brand: Actor;
let seeded: SeededProgram;
let call: ReturnType<typeof asKey>;

beforeAll(async () => {
  ctx = await createTestContext({ now: new Date('2026-03-10T12:00:00.000Z'), env: { TANDEM_COUNTRY_HEADER: 'CF-IPCountry' } });
  brand = await signupActor(ctx.app);
  seeded = await seedProgramWithPartner(ctx.pool, brand.workspaceId, {
    destinationUrl: 'https://shop.example.com/welcome',
    windowDays: 45,
  });
  call = asKey(ctx.app, brand.apiKey);
});
afterAll(async () => ctx?.close());

/** Creates a link and waits until this node has heard of it, so later cache assertions are deterministic. */
async function newLink(extra: Record<string, unknown> = {}): Promise<{ id: string; key: string; destinationUrl: string }> {
  const cache = redirectRuntimeOf(ctx.app).cache;
  const heard = cache.notifications;
  const res = await call('POST', '/api/v1/links', { programId: seeded.programId, partnerId: seeded.partnerId, ...extra });
  expect(res.statusCode).toBe(201);
  await vi.waitFor(() => expect(cache.notifications).toBeGreaterThan(heard), { timeout: 3000, interval: 5 });
  return res.json();
}

function visit(app: FastifyInstance, url: string, headers: Record<string, string> = {}, remoteAddress = '203.0.113.7') {
  return app.inject({ method: 'GET', url, headers: { 'user-agent': CHROME, ...headers }, remoteAddress });
}

const clickIdOf = (location: string | undefined) => new URL(location!).searchParams.get('tdm_click');
const flush = (app: FastifyInstance = ctx.app) => redirectRuntimeOf(app).buffer.flush();

async function clickRows(linkId: string) {
  const { rows } = await ctx.pool.query('select * from clicks where workspace_id = $1 and link_id = $2 order by id', [
    brand.workspaceId,
    linkId,
  ]);
  return rows;
}

describe('GET /r/:key', () => {
  it('redirects with a time-sortable click id in the query and a cookie for the attribution window', async () => {
    const link = await newLink({ utm: { source: 'newsletter' } });
    const res = await visit(ctx.app, `/r/${link.key}`, { referer: 'https://Blog.Partner.io/post/1?secret=x', 'cf-ipcountry': 'de' });
    expect(res.statusCode).toBe(302);
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe('https://shop.example.com/welcome');
    expect(location.searchParams.get('utm_source')).toBe('newsletter');
    const clickId = location.searchParams.get('tdm_click')!;
    expect(clickId).toMatch(/^clk_[0-9a-f]{32}$/);
    expect(clickTime(clickId)).toBe(ctx.clock.now.getTime());
    expect(res.headers['set-cookie']).toBe(`tdm_click=${clickId}; Max-Age=${45 * 86400}; Path=/; SameSite=Lax; HttpOnly`);
    expect(res.headers['cache-control']).toBe('private, no-store');

    await flush();
    const rows = await clickRows(link.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: uuidFromClickId(clickId),
      program_id: seeded.programId,
      partner_id: seeded.partnerId,
      created_at: ctx.clock.now,
      country: 'DE',
      device: 'desktop',
      browser: 'Chrome',
      os: 'Windows',
      referrer_host: 'blog.partner.io',
      paid_click_param: null,
    });
    // The IP is never stored, only keyed hashes of it.
    expect(JSON.stringify(rows[0])).not.toContain('203.0.113.7');
    expect(rows[0].ip_hash).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const rollup = await ctx.pool.query('select hour, clicks from click_rollups where workspace_id = $1 and link_id = $2', [
      brand.workspaceId,
      link.id,
    ]);
    expect(rollup.rows).toEqual([{ hour: new Date('2026-03-10T12:00:00.000Z'), clicks: 1 }]);
  });

  it('reuses the click id for the same visitor on the same link within the hour, then makes a new one', async () => {
    const link = await newLink();
    const first = clickIdOf((await visit(ctx.app, `/r/${link.key}`)).headers.location as string);
    ctx.clock.advance(59 * 60_000 + 59_000);
    const again = clickIdOf((await visit(ctx.app, `/r/${link.key}`)).headers.location as string);
    expect(again).toBe(first);
    const otherVisitor = clickIdOf((await visit(ctx.app, `/r/${link.key}`, { 'user-agent': IPHONE })).headers.location as string);
    expect(otherVisitor).not.toBe(first);
    ctx.clock.advance(1000); // exactly one hour after the first click
    const later = clickIdOf((await visit(ctx.app, `/r/${link.key}`)).headers.location as string);
    expect(later).not.toBe(first);
    await flush();
    expect((await clickRows(link.id)).map((r) => r.id).sort()).toEqual([first, otherVisitor, later].map((c) => uuidFromClickId(c!)).sort());
    const rollups = await ctx.pool.query('select sum(clicks)::int as n from click_rollups where workspace_id = $1 and link_id = $2', [
      brand.workspaceId,
      link.id,
    ]);
    expect(rollups.rows[0].n).toBe(3);
  });

  it('reuses a click id across UTC midnight, when the visitor hash changes with its daily key', async () => {
    const link = await newLink();
    // To 23:50 UTC of the test day (the clock only moves forward in this file).
    const now = ctx.clock.now.getTime();
    ctx.clock.advance(now - (now % 86_400_000) + 86_400_000 - 10 * 60_000 - now);
    const beforeMidnight = clickIdOf((await visit(ctx.app, `/r/${link.key}`, {}, '198.51.100.77')).headers.location as string);
    ctx.clock.advance(20 * 60_000); // 00:10
    const afterMidnight = clickIdOf((await visit(ctx.app, `/r/${link.key}`, {}, '198.51.100.77')).headers.location as string);
    expect(afterMidnight).toBe(beforeMidnight);
    // Another visitor after midnight is not mistaken for one of the previous day.
    const other = clickIdOf((await visit(ctx.app, `/r/${link.key}`, {}, '198.51.100.78')).headers.location as string);
    expect(other).not.toBe(beforeMidnight);
    ctx.clock.advance(40 * 60_000); // 00:50: an hour after the first click
    const later = clickIdOf((await visit(ctx.app, `/r/${link.key}`, {}, '198.51.100.77')).headers.location as string);
    expect(later).not.toBe(beforeMidnight);
    await flush();
    expect((await clickRows(link.id)).map((r) => r.id).sort()).toEqual([beforeMidnight, other, later].map((c) => uuidFromClickId(c!)).sort());
  });

  it("honours the visitor's click cookie on the same link only", async () => {
    const link = await newLink();
    const otherLink = await newLink();
    const first = clickIdOf((await visit(ctx.app, `/r/${link.key}`, {}, '198.51.100.1')).headers.location as string)!;
    // A new network (so a new visitor hash), but the browser still holds the cookie.
    const moved = await visit(ctx.app, `/r/${link.key}`, { cookie: `tdm_click=${first}` }, '198.51.100.99');
    expect(clickIdOf(moved.headers.location as string)).toBe(first);
    const elsewhere = await visit(ctx.app, `/r/${otherLink.key}`, { cookie: `tdm_click=${first}` }, '198.51.100.99');
    expect(clickIdOf(elsewhere.headers.location as string)).not.toBe(first);
    const forged = await visit(ctx.app, `/r/${link.key}`, { cookie: 'tdm_click=clk_00000000000070008000000000000000' }, '198.51.100.50');
    expect(clickIdOf(forged.headers.location as string)).not.toBe('clk_00000000000070008000000000000000');
  });

  it('sends bots and HEAD probes on without counting them', async () => {
    const link = await newLink();
    const bot = await visit(ctx.app, `/r/${link.key}`, { 'user-agent': GOOGLEBOT });
    expect(bot.statusCode).toBe(302);
    expect(bot.headers.location).toBe('https://shop.example.com/welcome');
    expect(bot.headers['set-cookie']).toBeUndefined();
    const noAgent = await ctx.app.inject({ method: 'GET', url: `/r/${link.key}` });
    expect(noAgent.statusCode).toBe(302);
    expect(clickIdOf(noAgent.headers.location as string)).toBeNull();
    // Longer than any browser's: a bot's token could hide past what is parsed.
    const overLong = await visit(ctx.app, `/r/${link.key}`, { 'user-agent': `${CHROME} ${'x'.repeat(1100)} Googlebot/2.1` });
    expect(overLong.statusCode).toBe(302);
    expect(clickIdOf(overLong.headers.location as string)).toBeNull();
    const head = await ctx.app.inject({ method: 'HEAD', url: `/r/${link.key}`, headers: { 'user-agent': CHROME } });
    expect(head.statusCode).toBe(302);
    expect(head.headers['set-cookie']).toBeUndefined();
    await flush();
    expect(await clickRows(link.id)).toHaveLength(0);
  });

  it('passes ad click ids on to the destination and records which one came', async () => {
    const link = await newLink();
    const res = await visit(ctx.app, `/r/${link.key}?gclid=Cj0K%26x%3D1&other=ignored`, {}, '192.0.2.44');
    const location = new URL(res.headers.location as string);
    expect(location.host).toBe('shop.example.com');
    expect(location.searchParams.get('gclid')).toBe('Cj0K&x=1');
    expect(location.searchParams.get('other')).toBeNull();
    await flush();
    expect((await clickRows(link.id))[0].paid_click_param).toBe('gclid');
  });

  it('answers an unknown key with an HTML 404 page', async () => {
    for (const url of ['/r/no-such-key', '/r/', '/r/a/b']) {
      const res = await visit(ctx.app, url);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers.location).toBeUndefined();
      expect(res.body).toContain('This link does not exist');
    }
  });

  it('never lets the request change where the visitor goes', async () => {
    const link = await newLink({ destinationUrl: 'https://shop.example.com/p?tdm_click=forged#details' });
    const attempts = [
      `/r/${link.key}?url=https://evil.example.net/&redirect=//evil.example.net&tdm_click=clk_x`,
      `/r/${link.key}/..%2F..%2Fevil.example.net`,
      `/r/${link.key}%2F%2Fevil.example.net`,
      `/r/${link.key}/https://evil.example.net`,
    ];
    for (const url of attempts) {
      const res = await visit(ctx.app, url);
      if (res.statusCode === 302) {
        const location = new URL(res.headers.location as string);
        expect(location.host).toBe('shop.example.com');
        expect(location.pathname).toBe('/p');
        expect(location.hash).toBe('#details');
        expect(location.searchParams.getAll('tdm_click')).toEqual([expect.stringMatching(/^clk_[0-9a-f]{32}$/)]);
      } else {
        expect(res.statusCode).toBe(404);
        expect(res.headers.location).toBeUndefined();
      }
    }
  });

  it('stops redirecting an archived link at once and resumes when restored', async () => {
    const link = await newLink();
    expect((await visit(ctx.app, `/r/${link.key}`)).statusCode).toBe(302);
    await call('PATCH', `/api/v1/links/${link.id}`, { archived: true });
    await vi.waitFor(async () => expect((await visit(ctx.app, `/r/${link.key}`)).statusCode).toBe(404), { timeout: 3000, interval: 20 });
    await call('PATCH', `/api/v1/links/${link.id}`, { archived: false });
    await vi.waitFor(async () => expect((await visit(ctx.app, `/r/${link.key}`)).statusCode).toBe(302), { timeout: 3000, interval: 20 });
  });

  it('answers a cached key without touching the database', async () => {
    const link = await newLink();
    const runtime = redirectRuntimeOf(ctx.app);
    await visit(ctx.app, `/r/${link.key}`);
    const loads = runtime.cache.loads;
    for (let i = 0; i < 20; i++) expect((await visit(ctx.app, `/r/${link.key}`, {}, `10.0.0.${i}`)).statusCode).toBe(302);
    for (let i = 0; i < 5; i++) await visit(ctx.app, '/r/still-unknown-key');
    expect(runtime.cache.loads - loads).toBe(1); // the unknown key, once
    // A key with a control character (PostgreSQL refuses NUL in text) is no key: 404, no lookup, no 503.
    for (const url of ['/r/%00', '/r/a%0Ab', '/r/%7F']) expect((await visit(ctx.app, url)).statusCode).toBe(404);
    expect(runtime.cache.loads - loads).toBe(1);
  });

  it('picks up a change the notification missed at the next poll', async () => {
    const link = await newLink();
    await visit(ctx.app, `/r/${link.key}`);
    // A change written without the notification (as if the LISTEN connection had dropped).
    await ctx.pool.query(
      `update links set destination_url = 'https://shop.example.com/moved', updated_at = now() where workspace_id = $1 and id = $2`,
      [brand.workspaceId, link.id],
    );
    expect(new URL((await visit(ctx.app, `/r/${link.key}`)).headers.location as string).pathname).toBe('/welcome');
    await redirectRuntimeOf(ctx.app).cache.poll();
    expect(new URL((await visit(ctx.app, `/r/${link.key}`)).headers.location as string).pathname).toBe('/moved');
  });
});

describe('two server processes sharing one database', () => {
  let node2: FastifyInstance;
  let pool2: pg.Pool;

  beforeAll(async () => {
    pool2 = openPool(ctx.databaseUrl, 4);
    const services2 = makeServices({
      config: ctx.services.config,
      database: {
        kind: ctx.services.dbKind,
        url: ctx.databaseUrl,
        pool: pool2,
        db: drizzle(pool2, { schema }),
        close: async () => undefined,
      },
      secret: ctx.services.secret,
      log: ctx.services.log,
      now: ctx.services.now,
    });
    node2 = await buildApp(services2, { serveWeb: false });
    await node2.ready();
  });
  afterAll(async () => {
    await node2?.close();
    await pool2?.end();
  });

  it("drops a changed link from the other node's cache", async () => {
    const link = await newLink();
    expect(new URL((await visit(node2, `/r/${link.key}`)).headers.location as string).pathname).toBe('/welcome');
    await call('PATCH', `/api/v1/links/${link.id}`, { destinationUrl: 'https://shop.example.com/spring' });
    await vi.waitFor(
      async () => expect(new URL((await visit(node2, `/r/${link.key}`)).headers.location as string).pathname).toBe('/spring'),
      { timeout: 3000, interval: 20 },
    );
    await call('PATCH', `/api/v1/links/${link.id}`, { archived: true });
    await vi.waitFor(async () => expect((await visit(node2, `/r/${link.key}`)).statusCode).toBe(404), { timeout: 3000, interval: 20 });
  });

  it('serves a key created after the other node remembered it as unknown', async () => {
    expect((await visit(node2, '/r/arrives-later')).statusCode).toBe(404);
    await newLink({ key: 'arrives-later' });
    await vi.waitFor(async () => expect((await visit(node2, '/r/arrives-later')).statusCode).toBe(302), { timeout: 3000, interval: 20 });
  });

  it("writes the other node's clicks on its own graceful close", async () => {
    const link = await newLink();
    const res = await visit(node2, `/r/${link.key}`, {}, '100.64.0.9');
    const buffer = redirectRuntimeOf(node2).buffer;
    expect(buffer.stats().buffered).toBeGreaterThan(0); // not yet written: the batch timer has not fired
    await node2.close();
    expect(buffer.stats()).toMatchObject({ buffered: 0, written: buffer.stats().accepted });
    expect((await clickRows(link.id)).map((r) => r.id)).toEqual([uuidFromClickId(clickIdOf(res.headers.location as string)!)]);
  });
});

describe('a full click buffer', () => {
  it('holds the redirect until the buffer has room, and loses nothing', async () => {
    const link = await newLink();
    const app = Fastify();
    await app.register(fastifyCookie);
    const runtime = await registerRedirect(app, ctx.services, { buffer: { capacity: 1, flushIntervalMs: 60_000 } });
    await app.ready();
    try {
      expect((await visit(app, `/r/${link.key}`, {}, '172.16.0.1')).statusCode).toBe(302);
      let answered = false;
      const second = visit(app, `/r/${link.key}`, {}, '172.16.0.2').then((res) => {
        answered = true;
        return res;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(answered).toBe(false);
      expect(runtime.buffer.stats()).toMatchObject({ buffered: 1, waits: 1 });
      await runtime.buffer.flush();
      expect((await second).statusCode).toBe(302);
    } finally {
      await app.close();
    }
    expect(runtime.buffer.stats()).toMatchObject({ accepted: 2, written: 2, buffered: 0 });
    expect(await clickRows(link.id)).toHaveLength(2);
  });
});

describe('the listening server', () => {
  // `inject` reaches the redirect through its Fastify route; a real socket reaches the node:http
  // handler that buildApp puts in front of Fastify. Both must behave the same.
  let app: FastifyInstance;
  let base: string;
  const seenByFastify: string[] = [];

  beforeAll(async () => {
    app = await buildApp(ctx.services, { serveWeb: false });
    app.addHook('onRequest', async (req) => void seenByFastify.push(`${req.method} ${req.url}`));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => app?.close());

  const get = (path: string, init: RequestInit = {}) =>
    fetch(base + path, { redirect: 'manual', ...init, headers: { 'user-agent': CHROME, ...(init.headers as Record<string, string>) } });

  it('answers /r/ before Fastify, with the same redirect, cookie and 404 page', async () => {
    // The server is ours (serverFactory) but keeps the timeouts Fastify would have given its own.
    expect(app.server.keepAliveTimeout).toBe(72_000);
    const link = await newLink();
    const res = await get(`/r/${link.key}?gclid=abc`, { headers: { cookie: 'theme=dark; tdm_clickx=1' } });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.host).toBe('shop.example.com');
    expect(location.searchParams.get('gclid')).toBe('abc');
    const clickId = location.searchParams.get('tdm_click')!;
    expect(res.headers.get('set-cookie')).toBe(`tdm_click=${clickId}; Max-Age=${45 * 86_400}; Path=/; SameSite=Lax; HttpOnly`);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    // Fastify's hooks never saw the redirect (its onSend request id is missing too); it still serves the rest.
    expect(res.headers.get('x-request-id')).toBeNull();
    expect((await get('/healthz')).headers.get('x-request-id')).toMatch(/^req_/);

    // The click cookie is found among others and reused on the same link.
    const again = await get(`/r/${link.key}`, { headers: { cookie: `theme=dark; tdm_click=${clickId}; lang=de`, 'user-agent': IPHONE } });
    expect(clickIdOf(again.headers.get('location')!)).toBe(clickId);

    for (const path of ['/r/no-such-key', '/r/', `/r/${link.key}/x`, `/r/${'k'.repeat(101)}`, '/r/%E0%A4%A']) {
      const missing = await get(path);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await missing.text()).toContain('This link does not exist');
    }
    const head = await get('/r/no-such-key', { method: 'HEAD' });
    expect(head.status).toBe(404);
    // Other methods are not the redirect's: Fastify answers them.
    const post = await get(`/r/${link.key}`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(post.headers.get('content-type')).toContain('application/json');
    expect(seenByFastify).toEqual(['GET /healthz', `POST /r/${link.key}`]);

    const buffer = redirectRuntimeOf(app).buffer;
    await app.close();
    expect(buffer.stats()).toMatchObject({ accepted: 1, written: 1, buffered: 0 });
    expect((await clickRows(link.id)).map((r) => r.id)).toEqual([uuidFromClickId(clickId)]);
  });
});

describe('behind a trusted proxy', () => {
  it('takes the visitor from the first X-Forwarded-For address, not the proxy', async () => {
    const services = makeServices({
      config: { ...ctx.services.config, trustProxy: true },
      database: { kind: ctx.services.dbKind, url: ctx.databaseUrl, pool: ctx.pool, db: drizzle(ctx.pool, { schema }), close: async () => undefined },
      secret: ctx.services.secret,
      log: ctx.services.log,
      now: ctx.services.now,
    });
    const app = await buildApp(services, { serveWeb: false });
    try {
      const link = await newLink();
      const from = async (forwardedFor: string, proxy: string) =>
        clickIdOf((await visit(app, `/r/${link.key}`, { 'x-forwarded-for': forwardedFor }, proxy)).headers.location as string);
      const first = await from('198.18.0.1, 10.0.0.1', '10.0.0.2');
      expect(await from('198.18.0.1', '10.0.0.3')).toBe(first);
      expect(await from('198.18.0.2, 10.0.0.1', '10.0.0.2')).not.toBe(first);
    } finally {
      await app.close();
    }
  });
});

describe('the click cookie', () => {
  const id = 'clk_0190a1b2c3d47e8f9a0b1c2d3e4f5a6b';
  const uuid = uuidFromClickId(id);

  it('is read only at a cookie boundary, among other cookies', () => {
    expect(clickUuidFromCookieHeader(`tdm_click=${id}`)).toBe(uuid);
    expect(clickUuidFromCookieHeader(`a=1; tdm_click=${id}; b=2`)).toBe(uuid);
    expect(clickUuidFromCookieHeader(`a=1;tdm_click=${id}`)).toBe(uuid);
    expect(clickUuidFromCookieHeader(`xtdm_click=${id}; tdm_click=${id}`)).toBe(uuid);
    expect(clickUuidFromCookieHeader(`xtdm_click=${id}`)).toBeNull();
  });

  it('is ignored when absent or not a click id', () => {
    expect(clickUuidFromCookieHeader('theme=dark')).toBeNull();
    expect(clickUuidFromCookieHeader('tdm_click=')).toBeNull();
    expect(clickUuidFromCookieHeader('tdm_click=clk_../../etc; a=1')).toBeNull();
  });
});

describe('a database that cannot be reached on a cache miss', () => {
  it('answers 503 with Retry-After instead of failing the process, and recovers', async () => {
    let down = true;
    // The pool as the link cache sees it: the key lookup fails while `down`; LISTEN and polls work.
    const pool = new Proxy(ctx.pool, {
      get(target, prop) {
        if (prop === 'query')
          return (text: unknown, ...rest: unknown[]) =>
            down && typeof text === 'string' && text.includes('from links l')
              ? Promise.reject(new Error('connection refused'))
              : (target.query as (...args: unknown[]) => unknown)(text, ...rest);
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const link = await newLink();
    const app = Fastify();
    await registerRedirect(app, { ...ctx.services, pool });
    try {
      const res = await visit(app, `/r/${link.key}`);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers.location).toBeUndefined();
      down = false;
      expect((await visit(app, `/r/${link.key}`)).statusCode).toBe(302);
    } finally {
      await app.close();
    }
  });
});
