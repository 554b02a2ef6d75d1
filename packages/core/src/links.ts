import { randomInt } from 'node:crypto';

/** Lowercase letters and digits without look-alikes (0/o, 1/l/i): keys survive being read aloud or retyped. */
export const LINK_KEY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const CUSTOM_LINK_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/;

export function randomLinkKey(length = 7): string {
  let key = '';
  for (let i = 0; i < length; i++) key += LINK_KEY_ALPHABET[randomInt(LINK_KEY_ALPHABET.length)];
  return key;
}

/** Normalises a domain entry (`https://Shop.Example.com/` → `shop.example.com`). */
export function normaliseDomain(domain: string): string {
  const trimmed = domain.trim().toLowerCase();
  try {
    return new URL(trimmed.includes('://') ? trimmed : `https://${trimmed}`).hostname.replace(/\.$/, '');
  } catch {
    return trimmed;
  }
}

/**
 * The open-redirect guard: a link may only send visitors over http(s) to the program's own
 * destination host or one of its allowed domains (subdomains included).
 */
export function isDestinationAllowed(destination: string, programDestination: string, allowedDomains: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (url.username || url.password) return false;
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const allowed = [normaliseDomain(programDestination), ...allowedDomains.map(normaliseDomain)];
  return allowed.some((d) => d.length > 0 && (host === d || host.endsWith(`.${d}`)));
}

/** Adds query parameters to a URL, keeping what it already has (used for UTM tags and `tdm_click`). */
export function withQuery(url: string, params: Record<string, string | undefined>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.searchParams.set(k, v);
  return u.toString();
}
