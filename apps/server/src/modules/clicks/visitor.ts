import { hash } from 'node:crypto';
import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';

/** What a user agent says about the visitor, parsed once per distinct string. */
export interface UserAgentFacts {
  isBot: boolean;
  device: string | null;
  browser: string | null;
  os: string | null;
  /** This user agent's part of a visitor hash ({@link userAgentTag}); empty for bots, which are never counted. */
  tag: string;
}

/** Longer than any browser sends (in-app browsers reach a few hundred characters). */
const MAX_UA_LENGTH = 1024;

const NO_BROWSER: UserAgentFacts = Object.freeze({ isBot: true, device: null, browser: null, os: null, tag: '' });

/**
 * Parsing a user agent costs tens of microseconds; real traffic repeats a few hundred distinct
 * strings, so a small map makes it free on the hot path. Two generations rather than a
 * least-recently-used order: a hit in the young one is a single lookup, where keeping an LRU order
 * deleted and re-inserted the entry on every redirect. A string seen again while in the old
 * generation moves to the young one; when the young one is full it becomes the old one and the
 * previous old one is forgotten, so at most `maxEntries` are held.
 */
export class UserAgentCache {
  private young = new Map<string, UserAgentFacts>();
  private old = new Map<string, UserAgentFacts>();
  private readonly generationSize: number;

  constructor(maxEntries = 2000) {
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  facts(userAgent: string | undefined): UserAgentFacts {
    // No user agent at all is a script, not a person; nor is one longer than any browser sends (a
    // bot's token past the part parsed would otherwise go unseen).
    if (!userAgent || userAgent.length > MAX_UA_LENGTH) return NO_BROWSER;
    const hit = this.young.get(userAgent);
    if (hit) return hit;
    const facts = this.old.get(userAgent) ?? parseUserAgent(userAgent);
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(userAgent, facts);
    return facts;
  }
}

export function parseUserAgent(ua: string): UserAgentFacts {
  if (isbot(ua)) return NO_BROWSER;
  const parsed = UAParser(ua);
  return {
    isBot: false,
    // ua-parser-js names only non-desktop device types.
    device: parsed.device.type ?? 'desktop',
    browser: parsed.browser.name ?? null,
    os: parsed.os.name ?? null,
    tag: userAgentTag(ua),
  };
}

/**
 * The user agent's part of a visitor hash: 36 bits of its SHA-256, made once per distinct user agent
 * (the cache keeps it with the parsed facts). Unkeyed on purpose — it says no more than the browser,
 * OS and device columns beside it; the keyed, daily part of a visitor hash is the IP's.
 */
export function userAgentTag(userAgent: string): string {
  return hash('sha256', `tandem-ua\n${userAgent}`, 'base64url').slice(0, 6);
}

/**
 * Keyed hashes of the visitor's IP: the raw address is never stored. The key is derived from the
 * instance secret and the UTC date, so hashes link a visitor's clicks within a day (dedupe, fraud
 * checks) but not across days, and cannot be reversed by trying every IPv4 address without the secret.
 *
 * SHA-256 over key‖message rather than HMAC: these are pseudonyms, not authenticators (length
 * extension gives an attacker nothing here), and the one-shot `crypto.hash` costs a fraction of
 * building two HMAC objects on every redirect.
 *
 * The visitor hash ("this IP with this browser") is the IP hash's first 96 bits followed by the
 * user agent's tag, so a redirect computes one keyed hash, not two: the second SHA-256 (over key,
 * IP and the ~120-character user agent) was ~5 % of the redirect's CPU. Two browsers behind one
 * address share a visitor hash only if their tags collide (2^-36), and the IP hash is stored
 * beside it anyway.
 */
export class VisitorHasher {
  private dayStartMs = 0;
  private dayEndMs = 0;
  private dayKey = '';
  /** The key of the day before the current one, for a visitor whose hour spans midnight. */
  private previousDayKey = '';

  constructor(private readonly secret: string) {}

  private derive(dayStartMs: number): string {
    const day = new Date(dayStartMs).toISOString().slice(0, 10);
    return hash('sha256', `tandem-click-salt:${this.secret}:${day}`, 'hex');
  }

  private keyFor(nowMs: number): string {
    // Two number comparisons per request; the keys are re-derived only when the UTC day changes.
    if (nowMs < this.dayStartMs || nowMs >= this.dayEndMs) {
      const dayStartMs = nowMs - (nowMs % DAY_MS);
      this.previousDayKey = dayStartMs === this.dayEndMs ? this.dayKey : this.derive(dayStartMs - DAY_MS);
      this.dayStartMs = dayStartMs;
      this.dayEndMs = dayStartMs + DAY_MS;
      this.dayKey = this.derive(dayStartMs);
    }
    return this.dayKey;
  }

  /** The 128-bit hash (22 base64url characters) of the IP under the day's key. */
  ipHash(ip: string, nowMs: number): string {
    return hash('sha256', `${this.keyFor(nowMs)}\n${ip}`, 'base64url').slice(0, 22);
  }

  /** The IP's hash and the visitor's (IP + user agent, by its {@link userAgentTag}): the "same visitor" key. */
  hash(ip: string, userAgentTag: string, nowMs: number): { ipHash: string; visitorHash: string } {
    const ipHash = this.ipHash(ip, nowMs);
    return { ipHash, visitorHash: ipHash.slice(0, 16) + userAgentTag };
  }

  /** How long ago, at `nowMs`, the current UTC day (and with it the key) began. */
  sinceDayStart(nowMs: number): number {
    this.keyFor(nowMs);
    return nowMs - this.dayStartMs;
  }

  /**
   * The visitor hash the same visitor had under the previous day's key: a visit shortly after
   * midnight finds, by it, a click made shortly before (the key changes, the visitor does not).
   */
  previousDayVisitorHash(ip: string, userAgentTag: string, nowMs: number): string {
    this.keyFor(nowMs);
    return hash('sha256', `${this.previousDayKey}\n${ip}`, 'base64url').slice(0, 16) + userAgentTag;
  }
}

const DAY_MS = 86_400_000;

const COUNTRY = /^[A-Za-z]{2}$/;

/** ISO-3166 alpha-2 country from the trusted header (e.g. `cf-ipcountry`), when it holds one. */
export function countryFrom(value: string | string[] | undefined): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  // `XX`/`T1` are what CDNs send for unknown and Tor; they are not countries.
  return v && COUNTRY.test(v) && v.toUpperCase() !== 'XX' ? v.toUpperCase() : null;
}
