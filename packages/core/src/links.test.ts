import { describe, expect, it } from 'vitest';
import { CUSTOM_LINK_KEY, isDestinationAllowed, LINK_KEY_ALPHABET, randomLinkKey, withQuery } from './links.js';

describe('isDestinationAllowed', () => {
  const program = 'https://shop.example.com/welcome';
  it('allows the program host, allowed domains and their subdomains', () => {
    expect(isDestinationAllowed('https://shop.example.com/p/1', program, [])).toBe(true);
    expect(isDestinationAllowed('https://blog.partner.io/x', program, ['partner.io'])).toBe(true);
    expect(isDestinationAllowed('https://partner.io', program, ['https://Partner.io/'])).toBe(true);
  });
  it('refuses other hosts, look-alikes, credentials and non-http schemes', () => {
    expect(isDestinationAllowed('https://evil.com', program, ['partner.io'])).toBe(false);
    expect(isDestinationAllowed('https://evilpartner.io', program, ['partner.io'])).toBe(false);
    expect(isDestinationAllowed('https://partner.io.evil.com', program, ['partner.io'])).toBe(false);
    expect(isDestinationAllowed('https://shop.example.com@evil.com', program, [])).toBe(false);
    expect(isDestinationAllowed('javascript:alert(1)', program, [])).toBe(false);
    expect(isDestinationAllowed('not a url', program, [])).toBe(false);
  });
});

describe('link keys', () => {
  it('draws random keys from the unambiguous alphabet', () => {
    const key = randomLinkKey();
    expect(key).toHaveLength(7);
    for (const ch of key) expect(LINK_KEY_ALPHABET).toContain(ch);
    expect(LINK_KEY_ALPHABET).not.toMatch(/[01ilo]/);
  });
  it('accepts readable custom keys only', () => {
    expect(CUSTOM_LINK_KEY.test('summer-sale_2026')).toBe(true);
    expect(CUSTOM_LINK_KEY.test('ab')).toBe(false);
    expect(CUSTOM_LINK_KEY.test('../etc')).toBe(false);
  });
});

it('withQuery keeps existing parameters', () => {
  expect(withQuery('https://a.com/p?x=1', { tdm_click: 'c1', utm_source: undefined })).toBe('https://a.com/p?x=1&tdm_click=c1');
});
