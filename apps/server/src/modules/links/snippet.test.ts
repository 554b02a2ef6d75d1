import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { createTestContext, type TestContext } from '../../test/harness.js';
import type { TandemBrowserApi } from '../../../../../packages/sdk/src/snippet/snippet.js';

let ctx: TestContext;
let code: string;

beforeAll(async () => {
  ctx = await createTestContext();
  const res = await ctx.app.inject({ method: 'GET', url: '/t.js' });
  expect(res.statusCode).toBe(200);
  code = res.body;
});
afterAll(async () => ctx?.close());

const CLICK = 'clk_0190f2a1b2c37def8a1b2c3d4e5f6a7b';

/** Runs the served snippet in a fake page: a URL, the script tag's attributes and a cookie jar. */
function runPage(url: string, attributes: Record<string, string> = {}, cookies: Record<string, string> = {}) {
  const jar = new Map(Object.entries(cookies));
  const writes: string[] = [];
  const document = {
    currentScript: { getAttribute: (name: string) => attributes[name] ?? null },
    get cookie() {
      return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    },
    set cookie(raw: string) {
      writes.push(raw);
      const [pair] = raw.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      if (/Max-Age=0(;|$)/.test(raw)) jar.delete(name);
      else jar.set(name, pair!.slice(eq + 1));
    },
  };
  const u = new URL(url);
  const sandbox: Record<string, unknown> = { document, location: { search: u.search, protocol: u.protocol }, URLSearchParams };
  sandbox.window = sandbox;
  vm.runInNewContext(code, sandbox);
  return { tandem: sandbox.tandem as TandemBrowserApi, jar, writes };
}

describe('GET /t.js', () => {
  it('is small, cacheable and revalidates by ETag', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/t.js' });
    expect(res.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=86400, stale-while-revalidate=604800');
    expect(gzipSync(res.body).length).toBeLessThan(3 * 1024);
    const again = await ctx.app.inject({ method: 'GET', url: '/t.js', headers: { 'if-none-match': res.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('keeps the landing click id and coupon in first-party cookies for the window', () => {
    const page = runPage(`https://shop.example.com/welcome?tdm_click=${CLICK}&via=SPRING10`, { 'data-window-days': '7' });
    expect(page.tandem.clickId()).toBe(CLICK);
    expect(page.tandem.couponCode()).toBe('SPRING10');
    expect(page.writes).toEqual([
      `tdm_click=${CLICK}; Max-Age=${7 * 86400}; Path=/; SameSite=Lax; Secure`,
      `tdm_via=SPRING10; Max-Age=${7 * 86400}; Path=/; SameSite=Lax; Secure`,
    ]);
  });

  it('reads the stored ids on later pages, defaulting to a 30-day window', () => {
    const landing = runPage(`http://shop.example.com/?tdm_click=${CLICK}`);
    expect(landing.writes[0]).toBe(`tdm_click=${CLICK}; Max-Age=${30 * 86400}; Path=/; SameSite=Lax`);
    const later = runPage('http://shop.example.com/cart', {}, Object.fromEntries(landing.jar));
    expect(later.tandem.clickId()).toBe(CLICK);
    expect(later.tandem.couponCode()).toBeNull();
    expect(later.writes).toEqual([]);
  });

  it('ignores values that are not click ids or coupon codes', () => {
    const page = runPage('https://shop.example.com/?tdm_click=<script>&via=a%20b%3Bc', {}, { tdm_click: 'bogus' });
    expect(page.tandem.clickId()).toBeNull();
    expect(page.tandem.couponCode()).toBeNull();
    expect(page.writes).toEqual([]);
  });

  it('writes nothing before consent when the site requires it, then stores on consent and forgets on refusal', () => {
    const page = runPage(`https://shop.example.com/?tdm_click=${CLICK}&via=SPRING10`, { 'data-consent': 'required' });
    expect(page.writes).toEqual([]);
    expect(page.tandem.clickId()).toBe(CLICK); // the page may still use it now, nothing is stored
    page.tandem.consent(true);
    expect(page.jar.get('tdm_click')).toBe(CLICK);
    expect(page.jar.get('tdm_via')).toBe('SPRING10');
    page.tandem.consent(false);
    expect(page.jar.size).toBe(0);
    expect(page.tandem.clickId()).toBeNull();
  });

  it('does not read stored cookies before consent', () => {
    const page = runPage('https://shop.example.com/cart', { 'data-consent': 'required' }, { tdm_click: CLICK });
    expect(page.tandem.clickId()).toBeNull();
    page.tandem.consent(true);
    expect(page.tandem.clickId()).toBe(CLICK);
  });
});
