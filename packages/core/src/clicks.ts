/**
 * Click ids travel as `clk_` + the 32 hex digits of a UUIDv7 (time-ordered, so batch inserts append
 * to the index); the database stores the uuid itself (16 bytes).
 */
const CLICK_ID = /^clk_([0-9a-f]{32})$/;

export function clickIdFromUuid(uuid: string): string {
  // The canonical 8-4-4-4-12 form (every redirect) by slicing, which is cheaper than a regex.
  if (uuid.length === 36 && uuid[8] === '-' && uuid[13] === '-' && uuid[18] === '-' && uuid[23] === '-')
    return 'clk_' + uuid.slice(0, 8) + uuid.slice(9, 13) + uuid.slice(14, 18) + uuid.slice(19, 23) + uuid.slice(24);
  return `clk_${uuid.replace(/-/g, '')}`;
}

/** The uuid behind a public click id, or null when it is not one. */
export function uuidFromClickId(clickId: string): string | null {
  const m = CLICK_ID.exec(clickId);
  if (!m) return null;
  const h = m[1]!;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Milliseconds since the epoch encoded in a UUIDv7 click id (its first 48 bits). */
export function clickTime(clickId: string): number | null {
  const m = CLICK_ID.exec(clickId);
  return m ? parseInt(m[1]!.slice(0, 12), 16) : null;
}

/**
 * Ad networks' click parameters. When one lands on a short link it is passed on to the destination
 * (the ad network's own conversion tracking reads it there) and its name is kept with the click.
 */
export const AD_CLICK_ID_PARAMS = [
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'ttclid',
  'twclid',
  'li_fat_id',
  'yclid',
  'epik',
  'rdt_cid',
] as const;
const MAX_PAID_CLICK_VALUE = 512;

/** The paid-click parameters present in a parsed query string, in {@link AD_CLICK_ID_PARAMS} order. */
export function paidClickParams(query: Record<string, unknown>): [name: string, value: string][] {
  const found: [string, string][] = [];
  for (const name of AD_CLICK_ID_PARAMS) {
    const value = query[name];
    if (typeof value === 'string' && value.length > 0 && value.length <= MAX_PAID_CLICK_VALUE) found.push([name, value]);
  }
  return found;
}

const REFERRER_HOST = /^https?:\/\/(?:[^@/?#]*@)?([^/?#:]+)/i;

/** The host of a Referer header (never its path or query, which may carry personal data). */
export function referrerHost(referer: string | undefined): string | null {
  if (!referer) return null;
  const host = REFERRER_HOST.exec(referer)?.[1];
  return host ? host.toLowerCase().slice(0, 253) : null;
}

/** A destination split once so that adding a click id per request is string concatenation, not URL parsing. */
export interface PreparedDestination {
  /** The destination up to (not including) its fragment, without any `tdm_click` of its own. */
  base: string;
  /** `?` or `&`: what joins the next parameter to `base`. */
  joiner: '?' | '&';
  /** `#…` or the empty string. */
  fragment: string;
}

export function prepareDestination(destinationUrl: string): PreparedDestination {
  const url = new URL(destinationUrl);
  // A registered destination never decides the click id: a stale or forged one is removed.
  url.searchParams.delete('tdm_click');
  const fragment = url.hash;
  url.hash = '';
  const base = url.toString();
  return { base, joiner: url.search ? '&' : '?', fragment };
}

/** The destination with `tdm_click` (and any passed-on paid-click parameters) added to its query. */
export function destinationWithClick(dest: PreparedDestination, clickId: string | null, extra: readonly [string, string][] = []): string {
  let out = dest.base;
  let joiner = dest.joiner;
  if (clickId) {
    out += `${joiner}tdm_click=${clickId}`;
    joiner = '&';
  }
  for (const [name, value] of extra) {
    out += `${joiner}${name}=${encodeURIComponent(value)}`;
    joiner = '&';
  }
  return out + dest.fragment;
}

/** How long a visitor's repeat visits to the same link reuse its first click id. */
export const CLICK_REUSE_MS = 3600_000;

interface RecentClick {
  clickUuid: string;
  linkId: string;
  atMs: number;
}

/**
 * The clicks of the last hour on this node, by visitor-and-link and by click id, bounded so that a
 * flood of distinct visitors costs a fixed amount of memory. Two generations of maps: when the
 * young one is full it becomes the old one and the previous old one is dropped whole — O(1), with
 * no per-entry eviction on the hot path. A repeat visit within {@link CLICK_REUSE_MS} of the first
 * click reuses its id; the clock is passed in.
 */
export class RecentClicks {
  private youngVisitors = new Map<string, RecentClick>();
  private oldVisitors = new Map<string, RecentClick>();
  private youngClicks = new Map<string, RecentClick>();
  private oldClicks = new Map<string, RecentClick>();
  private readonly generationSize: number;

  /** Remembers at least `maxEntries / 2` and at most `maxEntries` of the most recent clicks. */
  constructor(maxEntries = 200_000) {
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  get size(): number {
    return this.youngVisitors.size + this.oldVisitors.size;
  }

  /** The click id to reuse for this visitor on this link, if its first click is less than an hour old. */
  findByVisitor(linkId: string, visitorHash: string, nowMs: number): string | null {
    const key = linkId + '|' + visitorHash;
    const hit = this.youngVisitors.get(key) ?? this.oldVisitors.get(key);
    return hit !== undefined && nowMs - hit.atMs < CLICK_REUSE_MS && nowMs >= hit.atMs ? hit.clickUuid : null;
  }

  /** Whether a click id (from the visitor's cookie) was made on this link less than an hour ago. */
  isRecentClickOf(clickUuid: string, linkId: string, nowMs: number): boolean {
    const hit = this.youngClicks.get(clickUuid) ?? this.oldClicks.get(clickUuid);
    return hit !== undefined && hit.linkId === linkId && nowMs - hit.atMs < CLICK_REUSE_MS && nowMs >= hit.atMs;
  }

  /**
   * The redirect's one call: the visitor's click id on this link from the last hour, or a new one
   * (from `newUuid`) remembered from now on. The map key is built once for the lookup and the insert.
   */
  claim(linkId: string, visitorHash: string, nowMs: number, newUuid: () => string): { uuid: string; reused: boolean } {
    const key = linkId + '|' + visitorHash;
    const hit = this.youngVisitors.get(key) ?? this.oldVisitors.get(key);
    if (hit !== undefined && nowMs - hit.atMs < CLICK_REUSE_MS && nowMs >= hit.atMs) return { uuid: hit.clickUuid, reused: true };
    const uuid = newUuid();
    this.store(key, { clickUuid: uuid, linkId, atMs: nowMs });
    return { uuid, reused: false };
  }

  remember(linkId: string, visitorHash: string, clickUuid: string, nowMs: number): void {
    this.store(linkId + '|' + visitorHash, { clickUuid, linkId, atMs: nowMs });
  }

  private store(visitorKey: string, entry: RecentClick): void {
    if (this.youngVisitors.size >= this.generationSize) {
      this.oldVisitors = this.youngVisitors;
      this.oldClicks = this.youngClicks;
      this.youngVisitors = new Map();
      this.youngClicks = new Map();
    }
    this.youngVisitors.set(visitorKey, entry);
    this.youngClicks.set(entry.clickUuid, entry);
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const RANDOM_POOL_IDS = 4096;

/**
 * Makes UUIDv7 click ids (RFC 9562: 48-bit milliseconds, version 7, variant 10, random rest) at
 * redirect speed: randomness is drawn from the system CSPRNG 4,096 ids at a time instead of one
 * system call per id, and no BigInt arithmetic. `fill` is the CSPRNG (node's `randomFillSync`),
 * passed in to keep this module free of I/O.
 */
export class ClickIdGenerator {
  private readonly pool = new Uint8Array(RANDOM_POOL_IDS * 10);
  private next = RANDOM_POOL_IDS;

  constructor(private readonly fill: (bytes: Uint8Array) => void) {}

  /** The uuid (with dashes, as stored) of a new click made at `nowMs`. */
  uuid(nowMs: number): string {
    if (this.next === RANDOM_POOL_IDS) {
      this.fill(this.pool);
      this.next = 0;
    }
    const r = this.pool;
    const o = this.next++ * 10;
    const high = Math.floor(nowMs / 0x1000000); // upper 24 of the 48 time bits
    const low = nowMs % 0x1000000;
    const time =
      HEX[(high >>> 16) & 0xff]! +
      HEX[(high >>> 8) & 0xff]! +
      HEX[high & 0xff]! +
      HEX[(low >>> 16) & 0xff]! +
      '-' +
      HEX[(low >>> 8) & 0xff]! +
      HEX[low & 0xff]!;
    return (
      time +
      '-' +
      HEX[0x70 | (r[o]! & 0x0f)]! +
      HEX[r[o + 1]!]! +
      '-' +
      HEX[0x80 | (r[o + 2]! & 0x3f)]! +
      HEX[r[o + 3]!]! +
      '-' +
      HEX[r[o + 4]!]! +
      HEX[r[o + 5]!]! +
      HEX[r[o + 6]!]! +
      HEX[r[o + 7]!]! +
      HEX[r[o + 8]!]! +
      HEX[r[o + 9]!]!
    );
  }
}
