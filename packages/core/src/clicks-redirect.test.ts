import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomFillSync } from 'node:crypto';
import {
  CLICK_REUSE_MS,
  ClickIdGenerator,
  clickIdFromUuid,
  clickTime,
  destinationWithClick,
  paidClickParams,
  prepareDestination,
  RecentClicks,
  referrerHost,
  uuidFromClickId,
} from './clicks.js';

describe('destinationWithClick', () => {
  it('adds tdm_click with the right joiner and keeps the fragment last', () => {
    expect(destinationWithClick(prepareDestination('https://shop.example.com/p'), 'clk_1')).toBe(
      'https://shop.example.com/p?tdm_click=clk_1',
    );
    expect(destinationWithClick(prepareDestination('https://shop.example.com/p?utm_source=x#top'), 'clk_1')).toBe(
      'https://shop.example.com/p?utm_source=x&tdm_click=clk_1#top',
    );
    expect(destinationWithClick(prepareDestination('https://shop.example.com/'), null)).toBe('https://shop.example.com/');
  });

  it('keeps a registered query exactly as written (flags, %20, ~, slashes): signed URLs stay valid', () => {
    expect(destinationWithClick(prepareDestination('https://a.com/p?ref&q=a%20b&s=x~y&path=/a/b&sig=Zz%2B9'), 'clk_4')).toBe(
      'https://a.com/p?ref&q=a%20b&s=x~y&path=/a/b&sig=Zz%2B9&tdm_click=clk_4',
    );
  });

  it('drops a tdm_click registered in the destination itself', () => {
    expect(destinationWithClick(prepareDestination('https://a.com/?tdm_click=forged&x=1'), 'clk_2')).toBe(
      'https://a.com/?x=1&tdm_click=clk_2',
    );
  });

  it('passes paid-click values on encoded, never changing the host', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const out = destinationWithClick(prepareDestination('https://shop.example.com/landing'), 'clk_3', [['gclid', value]]);
        const url = new URL(out);
        expect(url.host).toBe('shop.example.com');
        expect(url.searchParams.get('gclid')).toBe(value);
        expect(url.searchParams.get('tdm_click')).toBe('clk_3');
      }),
    );
  });
});

describe('paidClickParams', () => {
  it('finds known ad click ids only, ignoring arrays and oversized values', () => {
    expect(paidClickParams({ gclid: 'abc', x: '1', fbclid: ['a', 'b'], msclkid: 'z'.repeat(600), wbraid: 'w' })).toEqual([
      ['gclid', 'abc'],
      ['wbraid', 'w'],
    ]);
    expect(paidClickParams({})).toEqual([]);
  });
});

describe('referrerHost', () => {
  it('keeps only the lowercased host', () => {
    expect(referrerHost('https://News.Example.org:8443/a/b?q=secret')).toBe('news.example.org');
    expect(referrerHost('http://user:pw@blog.io/x')).toBe('blog.io');
    expect(referrerHost('android-app://com.x')).toBeNull();
    expect(referrerHost(undefined)).toBeNull();
  });
});

describe('RecentClicks', () => {
  it('reuses a click id for the same visitor and link within the hour, not after', () => {
    const recent = new RecentClicks();
    recent.remember('lnk_a', 'v1', 'u1', 1_000);
    expect(recent.findByVisitor('lnk_a', 'v1', 1_000 + CLICK_REUSE_MS - 1)).toBe('u1');
    expect(recent.findByVisitor('lnk_a', 'v1', 1_000 + CLICK_REUSE_MS)).toBeNull();
    expect(recent.findByVisitor('lnk_b', 'v1', 2_000)).toBeNull();
    expect(recent.findByVisitor('lnk_a', 'v2', 2_000)).toBeNull();
    expect(recent.isRecentClickOf('u1', 'lnk_a', 2_000)).toBe(true);
    expect(recent.isRecentClickOf('u1', 'lnk_b', 2_000)).toBe(false);
    expect(recent.isRecentClickOf('u1', 'lnk_a', 1_000 + CLICK_REUSE_MS)).toBe(false);
  });

  it('claims a new id for a first visit and the same one for a repeat within the hour', () => {
    const recent = new RecentClicks();
    let made = 0;
    const newUuid = () => `u${++made}`;
    expect(recent.claim('lnk_a', 'v1', 5_000, newUuid)).toEqual({ uuid: 'u1', reused: false });
    expect(recent.claim('lnk_a', 'v1', 5_000 + CLICK_REUSE_MS - 1, newUuid)).toEqual({ uuid: 'u1', reused: true });
    expect(recent.claim('lnk_b', 'v1', 6_000, newUuid)).toEqual({ uuid: 'u2', reused: false });
    expect(recent.claim('lnk_a', 'v1', 5_000 + CLICK_REUSE_MS, newUuid)).toEqual({ uuid: 'u3', reused: false });
    expect(recent.isRecentClickOf('u3', 'lnk_a', 5_000 + CLICK_REUSE_MS)).toBe(true);
    expect(made).toBe(3);
  });

  it('keeps answering when the same visitors come back every hour, each time with a new id', () => {
    // Each return after the hour replaces the visitor's click id in its slot; the old id must leave
    // the click table too, or the table fills up and a lookup never ends.
    const recent = new RecentClicks(8);
    let made = 0;
    for (let hour = 0; hour < 50; hour++) {
      for (const visitor of ['v1', 'v2', 'v3']) {
        const at = hour * (CLICK_REUSE_MS + 1);
        const { uuid, reused } = recent.claim('lnk_a', visitor, at, () => `u${++made}`);
        expect(reused).toBe(false);
        expect(recent.isRecentClickOf(uuid, 'lnk_a', at)).toBe(true);
        expect(recent.isRecentClickOf('u-never-made', 'lnk_a', at)).toBe(false);
      }
    }
    expect(made).toBe(150);
  });

  it('forgets the oldest visitors beyond its bound, a generation at a time', () => {
    const recent = new RecentClicks(4);
    for (let i = 0; i < 5; i++) recent.remember('lnk_a', `v${i}`, `u${i}`, 10);
    expect(recent.size).toBeLessThanOrEqual(4);
    expect(recent.findByVisitor('lnk_a', 'v0', 11)).toBeNull();
    expect(recent.isRecentClickOf('u1', 'lnk_a', 11)).toBe(false);
    expect(recent.findByVisitor('lnk_a', 'v2', 11)).toBe('u2');
    expect(recent.isRecentClickOf('u3', 'lnk_a', 11)).toBe(true);
    expect(recent.findByVisitor('lnk_a', 'v4', 11)).toBe('u4');
  });
});

describe('RecentClicks under load', () => {
  it('agrees with a plain map of the last two generations over many visitors, links and repeats', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ link: fc.integer({ min: 0, max: 30 }), visitor: fc.integer({ min: 0, max: 400 }), dt: fc.integer({ min: 0, max: 120_000 }) }), { maxLength: 600 }),
        fc.integer({ min: 2, max: 200 }),
        (visits, maxEntries) => {
          const recent = new RecentClicks(maxEntries);
          const generationSize = Math.max(1, Math.floor(maxEntries / 2));
          // The model: two generations of maps, rotated when the young one is full.
          let young = new Map<string, { uuid: string; at: number; link: string }>();
          let old = new Map<string, { uuid: string; at: number; link: string }>();
          let now = 0;
          let made = 0;
          for (const v of visits) {
            now += v.dt;
            const link = `lnk_${v.link}`;
            const key = `${link}|visitor-${v.visitor}`;
            const hit = young.get(key) ?? old.get(key);
            const expectedReuse = hit !== undefined && now - hit.at < CLICK_REUSE_MS;
            const got = recent.claim(link, `visitor-${v.visitor}`, now, () => `u${++made}`);
            expect(got.reused).toBe(expectedReuse);
            if (expectedReuse) expect(got.uuid).toBe(hit!.uuid);
            else {
              if (young.size >= generationSize) {
                old = young;
                young = new Map();
              }
              young.set(key, { uuid: got.uuid, at: now, link });
            }
            expect(recent.isRecentClickOf(got.uuid, link, now)).toBe(true);
            expect(recent.isRecentClickOf(got.uuid, `lnk_${v.link + 1}`, now)).toBe(false);
          }
          expect(recent.size).toBe(young.size + old.size);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('numbers links afresh (forgetting every click) once it has seen too many, and stays right', () => {
    const recent = new RecentClicks(4);
    for (let i = 0; i < 70_000; i++) recent.remember(`lnk_${i}`, 'v', `u${i}`, 10);
    expect(recent.size).toBeLessThanOrEqual(4);
    expect(recent.findByVisitor('lnk_69999', 'v', 11)).toBe('u69999');
    expect(recent.isRecentClickOf('u69999', 'lnk_69999', 11)).toBe(true);
    expect(recent.isRecentClickOf('u69999', 'lnk_0', 11)).toBe(false);
    expect(recent.findByVisitor('lnk_0', 'v', 11)).toBeNull();
  });
});

describe('ClickIdGenerator', () => {
  it('makes RFC 9562 version-7 uuids carrying their millisecond', () => {
    const ids = new ClickIdGenerator((b) => randomFillSync(b));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
        const uuid = ids.uuid(ms);
        expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(clickTime(clickIdFromUuid(uuid))).toBe(ms);
        expect(uuidFromClickId(clickIdFromUuid(uuid))).toBe(uuid);
      }),
    );
  });

  it('sorts by time, never repeats, and draws randomness in blocks', () => {
    let fills = 0;
    const ids = new ClickIdGenerator((b) => {
      fills += 1;
      randomFillSync(b);
    });
    const made = Array.from({ length: 10_000 }, (_, i) => ids.uuid(1_700_000_000_000 + Math.floor(i / 10)));
    expect(new Set(made).size).toBe(made.length);
    for (let i = 10; i < made.length; i += 10) expect(made[i]! > made[i - 1]!).toBe(true);
    expect(fills).toBe(Math.ceil(10_000 / 4096));
  });
});
