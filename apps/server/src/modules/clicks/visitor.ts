import { hash } from 'node:crypto';
import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';

/** What a user agent says about the visitor, parsed once per distinct string. */
export interface UserAgentFacts {
  isBot: boolean;
  device: string | null;
  browser: string | null;
  os: string | null;
}

/** Longer than any browser sends (in-app browsers reach a few hundred characters). */
const MAX_UA_LENGTH = 1024;

/**
 * Parsing a user agent costs tens of microseconds; real traffic repeats a few hundred distinct
 * strings, so a small least-recently-used map makes it free on the hot path.
 */
export class UserAgentCache {
  private readonly entries = new Map<string, UserAgentFacts>();

  constructor(private readonly maxEntries = 2000) {}

  facts(userAgent: string | undefined): UserAgentFacts {
    // No user agent at all is a script, not a person; nor is one longer than any browser sends (a
    // bot's token past the part parsed would otherwise go unseen).
    if (!userAgent || userAgent.length > MAX_UA_LENGTH) return { isBot: true, device: null, browser: null, os: null };
    const hit = this.entries.get(userAgent);
    if (hit) {
      this.entries.delete(userAgent);
      this.entries.set(userAgent, hit);
      return hit;
    }
    const facts = parseUserAgent(userAgent);
    this.entries.set(userAgent, facts);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return facts;
  }
}

export function parseUserAgent(ua: string): UserAgentFacts {
  if (isbot(ua)) return { isBot: true, device: null, browser: null, os: null };
  const parsed = UAParser(ua);
  return {
    isBot: false,
    // ua-parser-js names only non-desktop device types.
    device: parsed.device.type ?? 'desktop',
    browser: parsed.browser.name ?? null,
    os: parsed.os.name ?? null,
  };
}

/**
 * Keyed hashes of the visitor's IP: the raw address is never stored. The key is derived from the
 * instance secret and the UTC date, so hashes link a visitor's clicks within a day (dedupe, fraud
 * checks) but not across days, and cannot be reversed by trying every IPv4 address without the secret.
 *
 * SHA-256 over key‖message rather than HMAC: these are pseudonyms, not authenticators (length
 * extension gives an attacker nothing here), and the one-shot `crypto.hash` costs a fraction of
 * building two HMAC objects on every redirect.
 */
export class VisitorHasher {
  private dayStartMs = 0;
  private dayEndMs = 0;
  private dayKey = '';

  constructor(private readonly secret: string) {}

  private keyFor(nowMs: number): string {
    // Two number comparisons per request; the key is re-derived only when the UTC day changes.
    if (nowMs < this.dayStartMs || nowMs >= this.dayEndMs) {
      this.dayStartMs = nowMs - (nowMs % 86_400_000);
      this.dayEndMs = this.dayStartMs + 86_400_000;
      const day = new Date(this.dayStartMs).toISOString().slice(0, 10);
      this.dayKey = hash('sha256', `tandem-click-salt:${this.secret}:${day}`, 'hex');
    }
    return this.dayKey;
  }

  /** 128-bit hashes (base64url) of the IP alone and of IP + user agent (the "same visitor"). */
  hash(ip: string, userAgent: string, nowMs: number): { ipHash: string; visitorHash: string } {
    const key = this.keyFor(nowMs);
    const ipHash = hash('sha256', `${key}\n${ip}`, 'base64url').slice(0, 22);
    const visitorHash = hash('sha256', `${key}\n${ip}\n${userAgent}`, 'base64url').slice(0, 22);
    return { ipHash, visitorHash };
  }
}

const COUNTRY = /^[A-Za-z]{2}$/;

/** ISO-3166 alpha-2 country from the trusted header (e.g. `cf-ipcountry`), when it holds one. */
export function countryFrom(value: string | string[] | undefined): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  // `XX`/`T1` are what CDNs send for unknown and Tor; they are not countries.
  return v && COUNTRY.test(v) && v.toUpperCase() !== 'XX' ? v.toUpperCase() : null;
}
