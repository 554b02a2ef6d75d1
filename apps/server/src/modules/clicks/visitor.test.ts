import { describe, expect, it } from 'vitest';
import { countryFrom, parseUserAgent, UserAgentCache, VisitorHasher } from './visitor.js';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

describe('VisitorHasher', () => {
  const day = Date.UTC(2026, 2, 10, 12);
  it('hashes the same visitor alike within a UTC day and differently the next day', () => {
    const hasher = new VisitorHasher('secret-a');
    const noon = hasher.hash('203.0.113.7', CHROME, day);
    expect(hasher.hash('203.0.113.7', CHROME, day + 11 * 3600_000 + 59 * 60_000)).toEqual(noon);
    const tomorrow = hasher.hash('203.0.113.7', CHROME, day + 12 * 3600_000);
    expect(tomorrow.ipHash).not.toBe(noon.ipHash);
    expect(tomorrow.visitorHash).not.toBe(noon.visitorHash);
    // Going back to the first day gives its hashes again (the key follows the clock, not a counter).
    expect(hasher.hash('203.0.113.7', CHROME, day)).toEqual(noon);
  });

  it('separates IPs, user agents and secrets, and never contains the IP', () => {
    const a = new VisitorHasher('secret-a').hash('203.0.113.7', CHROME, day);
    expect(a.ipHash).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.visitorHash).not.toBe(a.ipHash);
    expect(new VisitorHasher('secret-a').hash('203.0.113.8', CHROME, day).ipHash).not.toBe(a.ipHash);
    expect(new VisitorHasher('secret-a').hash('203.0.113.7', `${CHROME} x`, day)).toMatchObject({
      ipHash: a.ipHash,
      visitorHash: expect.not.stringMatching(a.visitorHash),
    });
    expect(new VisitorHasher('secret-b').hash('203.0.113.7', CHROME, day).ipHash).not.toBe(a.ipHash);
  });
});

describe('user agents', () => {
  it('recognises bots, and treats a missing user agent as one', () => {
    expect(parseUserAgent('Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)').isBot).toBe(true);
    expect(parseUserAgent('curl/8.5.0').isBot).toBe(true);
    expect(new UserAgentCache().facts(undefined).isBot).toBe(true);
    expect(parseUserAgent(CHROME)).toEqual({ isBot: false, device: 'desktop', browser: 'Chrome', os: 'Linux' });
  });

  it('parses each distinct user agent once and stays bounded', () => {
    const cache = new UserAgentCache(2);
    const first = cache.facts(CHROME);
    expect(cache.facts(CHROME)).toBe(first);
    cache.facts('agent-b Mozilla/5.0 (Windows NT 10.0) Firefox/125.0');
    cache.facts('agent-c Mozilla/5.0 (Macintosh) Safari/605.1.15');
    expect(cache.facts(CHROME)).not.toBe(first); // evicted as least recently used, parsed again
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
