import { describe, expect, it } from 'vitest';
import { countryFrom, parseUserAgent, UserAgentCache, userAgentTag, VisitorHasher } from './visitor.js';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const CHROME_TAG = userAgentTag(CHROME);

describe('VisitorHasher', () => {
  const day = Date.UTC(2026, 2, 10, 12);
  it('hashes the same visitor alike within a UTC day and differently the next day', () => {
    const hasher = new VisitorHasher('secret-a');
    const noon = hasher.hash('203.0.113.7', CHROME_TAG, day);
    expect(hasher.hash('203.0.113.7', CHROME_TAG, day + 11 * 3600_000 + 59 * 60_000)).toEqual(noon);
    const tomorrow = hasher.hash('203.0.113.7', CHROME_TAG, day + 12 * 3600_000);
    expect(tomorrow.ipHash).not.toBe(noon.ipHash);
    expect(tomorrow.visitorHash).not.toBe(noon.visitorHash);
    // Going back to the first day gives its hashes again (the key follows the clock, not a counter).
    expect(hasher.hash('203.0.113.7', CHROME_TAG, day)).toEqual(noon);
  });

  it("gives, after midnight, the visitor hash the same visitor had under the previous day's key", () => {
    const hasher = new VisitorHasher('secret-a');
    const lateEvening = Date.UTC(2026, 2, 10, 23, 50);
    const evening = hasher.hash('203.0.113.7', CHROME_TAG, lateEvening);
    const afterMidnight = lateEvening + 20 * 60_000;
    expect(hasher.hash('203.0.113.7', CHROME_TAG, afterMidnight).visitorHash).not.toBe(evening.visitorHash);
    expect(hasher.previousDayVisitorHash('203.0.113.7', CHROME_TAG, afterMidnight)).toBe(evening.visitorHash);
    expect(hasher.sinceDayStart(afterMidnight)).toBe(10 * 60_000);
    // A hasher that starts after midnight derives the previous key too; a clock moved back rederives both.
    expect(new VisitorHasher('secret-a').previousDayVisitorHash('203.0.113.7', CHROME_TAG, afterMidnight)).toBe(evening.visitorHash);
    expect(hasher.previousDayVisitorHash('203.0.113.7', CHROME_TAG, lateEvening)).toBe(
      new VisitorHasher('secret-a').hash('203.0.113.7', CHROME_TAG, lateEvening - 86_400_000).visitorHash,
    );
  });

  it('separates IPs, user agents and secrets, and never contains the IP', () => {
    const a = new VisitorHasher('secret-a').hash('203.0.113.7', CHROME_TAG, day);
    expect(a.ipHash).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.visitorHash).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.visitorHash).not.toBe(a.ipHash);
    const otherIp = new VisitorHasher('secret-a').hash('203.0.113.8', CHROME_TAG, day);
    expect(otherIp.ipHash).not.toBe(a.ipHash);
    expect(otherIp.visitorHash).not.toBe(a.visitorHash);
    expect(new VisitorHasher('secret-a').hash('203.0.113.7', userAgentTag(`${CHROME} x`), day)).toMatchObject({
      ipHash: a.ipHash,
      visitorHash: expect.not.stringMatching(a.visitorHash),
    });
    const otherSecret = new VisitorHasher('secret-b').hash('203.0.113.7', CHROME_TAG, day);
    expect(otherSecret.ipHash).not.toBe(a.ipHash);
    expect(otherSecret.visitorHash).not.toBe(a.visitorHash);
    for (const h of [a.ipHash, a.visitorHash]) expect(h).not.toContain('203');
    // The partner identity check hashes IPs alone, exactly as the redirect does.
    expect(new VisitorHasher('secret-a').ipHash('203.0.113.7', day)).toBe(a.ipHash);
  });

  it('gives each distinct user agent its own tag, and the parsed facts carry it', () => {
    expect(CHROME_TAG).toMatch(/^[A-Za-z0-9_-]{6}$/);
    expect(userAgentTag(CHROME)).toBe(CHROME_TAG);
    expect(userAgentTag(`${CHROME} x`)).not.toBe(CHROME_TAG);
    expect(new UserAgentCache().facts(CHROME).tag).toBe(CHROME_TAG);
  });
});

describe('user agents', () => {
  it('recognises bots, and treats a missing user agent as one', () => {
    expect(parseUserAgent('Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)').isBot).toBe(true);
    expect(parseUserAgent('curl/8.5.0').isBot).toBe(true);
    expect(new UserAgentCache().facts(undefined).isBot).toBe(true);
    expect(parseUserAgent(CHROME)).toEqual({ isBot: false, device: 'desktop', browser: 'Chrome', os: 'Linux', tag: CHROME_TAG });
  });

  it('parses each distinct user agent once and stays bounded', () => {
    const cache = new UserAgentCache(2);
    const first = cache.facts(CHROME);
    expect(cache.facts(CHROME)).toBe(first);
    cache.facts('agent-b Mozilla/5.0 (Windows NT 10.0) Firefox/125.0');
    cache.facts('agent-c Mozilla/5.0 (Macintosh) Safari/605.1.15');
    expect(cache.facts(CHROME)).not.toBe(first); // forgotten with its generation, parsed again
  });

  it('keeps a user agent seen again while it is in the old generation', () => {
    const cache = new UserAgentCache(4); // generations of two
    const first = cache.facts(CHROME);
    cache.facts('agent-b Mozilla/5.0 (Windows NT 10.0) Firefox/125.0');
    cache.facts('agent-c Mozilla/5.0 (Macintosh) Safari/605.1.15'); // CHROME is in the old generation now
    expect(cache.facts(CHROME)).toBe(first); // and moves back to the young one
    cache.facts('agent-d Mozilla/5.0 (X11) Firefox/126.0');
    cache.facts('agent-e Mozilla/5.0 (X11) Firefox/127.0');
    expect(cache.facts(CHROME)).toBe(first);
  });
});

it('takes a two-letter country from the trusted header, not placeholders', () => {
  expect(countryFrom('de')).toBe('DE');
  expect(countryFrom(['FR', 'DE'])).toBe('FR');
  expect(countryFrom('XX')).toBeNull();
  expect(countryFrom('T1')).toBeNull();
  expect(countryFrom('Germany')).toBeNull();
  expect(countryFrom(undefined)).toBeNull();
});
