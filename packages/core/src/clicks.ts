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
  // A registered destination never decides the click id: a stale or forged one is removed. Only
  // then is the query rewritten (searchParams re-encodes all of it: `%20` → `+`, `a` → `a=`),
  // so any other destination is sent exactly as registered.
  if (url.searchParams.has('tdm_click')) url.searchParams.delete('tdm_click');
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

/**
 * One generation of {@link RecentClicks}: open-addressing hash tables in typed arrays, so that
 * 100,000 remembered clicks are a few flat arrays rather than 100,000 map entries, entry objects and
 * key strings for the garbage collector to trace on every major collection (with a map per
 * generation the collector was ~7 % of the redirect's CPU under load). A visitor-and-link key is a
 * 63-bit hash of the two strings; two keys colliding would only make two visitors share a click id,
 * with odds of about 2^-63 per pair.
 */
class ClickGeneration {
  count = 0;
  private readonly mask: number;
  /** Visitor table: the key's two halves (keyLow is odd when the slot is used), link, time, click uuid. */
  private readonly keyHigh: Int32Array;
  private readonly keyLow: Int32Array;
  readonly links: Int32Array;
  readonly times: Float64Array;
  readonly uuids: (string | undefined)[];
  /** Click table: a hash of the uuid (odd when used) → the visitor table's slot + 1. */
  private readonly clickKeys: Int32Array;
  private readonly clickSlots: Int32Array;

  constructor(capacity: number) {
    let size = 8;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keyHigh = new Int32Array(size);
    this.keyLow = new Int32Array(size);
    this.links = new Int32Array(size);
    this.times = new Float64Array(size);
    this.uuids = new Array<string | undefined>(size).fill(undefined);
    this.clickKeys = new Int32Array(size);
    this.clickSlots = new Int32Array(size);
  }

  /** The visitor table's slot holding this key, or else the empty slot where it would go. */
  private probe(high: number, low: number): number {
    let i = high & this.mask;
    while (this.keyLow[i] !== 0 && !(this.keyLow[i] === low && this.keyHigh[i] === high)) i = (i + 1) & this.mask;
    return i;
  }

  /** The visitor table's slot holding this key, or -1. */
  findVisitor(high: number, low: number): number {
    const i = this.probe(high, low);
    return this.keyLow[i] === 0 ? -1 : i;
  }

  /** The visitor table's slot of a click uuid, or -1. */
  findClick(uuid: string): number {
    const key = clickKey(uuid);
    for (let i = (key >>> 1) & this.mask; ; i = (i + 1) & this.mask) {
      const k = this.clickKeys[i]!;
      if (k === 0) return -1;
      if (k === key) {
        const slot = this.clickSlots[i]! - 1;
        if (this.uuids[slot] === uuid) return slot;
      }
    }
  }

  store(high: number, low: number, link: number, atMs: number, uuid: string): void {
    const i = this.probe(high, low);
    if (this.keyLow[i] === 0) this.count += 1;
    // A visitor back after its hour gets a new click id in its slot: the old id leaves the click
    // table, or the table would fill up with ids no slot holds (and probing it would never end).
    else this.removeClick(this.uuids[i]!, i);
    this.keyHigh[i] = high;
    this.keyLow[i] = low;
    this.links[i] = link;
    this.times[i] = atMs;
    this.uuids[i] = uuid;
    const key = clickKey(uuid);
    let j = (key >>> 1) & this.mask;
    while (this.clickKeys[j] !== 0) j = (j + 1) & this.mask;
    this.clickKeys[j] = key;
    this.clickSlots[j] = i + 1;
  }

  /** Deletes a uuid's entry (pointing at `slot`) from the click table, shifting later entries of its run back. */
  private removeClick(uuid: string, slot: number): void {
    const key = clickKey(uuid);
    let hole = (key >>> 1) & this.mask;
    while (!(this.clickKeys[hole] === key && this.clickSlots[hole] === slot + 1)) {
      if (this.clickKeys[hole] === 0) return;
      hole = (hole + 1) & this.mask;
    }
    for (let j = (hole + 1) & this.mask; this.clickKeys[j] !== 0; j = (j + 1) & this.mask) {
      const home = (this.clickKeys[j]! >>> 1) & this.mask;
      // An entry whose home lies cyclically after the hole, up to itself, must stay where it is.
      const staysPut = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (staysPut) continue;
      this.clickKeys[hole] = this.clickKeys[j]!;
      this.clickSlots[hole] = this.clickSlots[j]!;
      hole = j;
    }
    this.clickKeys[hole] = 0;
    this.clickSlots[hole] = 0;
  }

  clear(): void {
    this.count = 0;
    this.keyLow.fill(0);
    this.clickKeys.fill(0);
    this.uuids.fill(undefined);
  }
}

/** A click id's key in the click table (odd, so that 0 marks an empty slot). */
const clickKey = (uuid: string) => stringHash(uuid, 0x2545f491) | 1;

/** A 32-bit FNV-1a-style hash of a string with a seed (not cryptographic: keys are keyed hashes or random ids). */
function stringHash(s: string, seed: number): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

/**
 * The clicks of the last hour on this node, by visitor-and-link and by click id, bounded so that a
 * flood of distinct visitors costs a fixed amount of memory. Two generations: when the young one is
 * full it becomes the old one and the previous old one is cleared for reuse — O(1) per click, with
 * no per-entry eviction on the hot path and no allocation but the click id itself. A repeat visit
 * within {@link CLICK_REUSE_MS} of the first click reuses its id; the clock is passed in.
 */
export class RecentClicks {
  private young: ClickGeneration;
  private old: ClickGeneration;
  private readonly generationSize: number;
  /** Link ids as small numbers, for the tables; reset with the generations if it grows too large. */
  private linkNumbers = new Map<string, number>();

  /** Remembers at least `maxEntries / 2` and at most `maxEntries` of the most recent clicks. */
  constructor(maxEntries = 200_000) {
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
    this.young = new ClickGeneration(this.generationSize);
    this.old = new ClickGeneration(this.generationSize);
  }

  get size(): number {
    return this.young.count + this.old.count;
  }

  private linkNumber(linkId: string): number {
    let n = this.linkNumbers.get(linkId);
    if (n === undefined) {
      n = this.linkNumbers.size + 1;
      this.linkNumbers.set(linkId, n);
    }
    return n;
  }

  /** Sets the module's key (`keyHigh`/`keyLow`) for this visitor on this link; returns the link's number. */
  private setKey(linkId: string, visitorHash: string): number {
    const link = this.linkNumber(linkId);
    keyHigh = stringHash(visitorHash, link);
    keyLow = (stringHash(visitorHash, ~link) ^ Math.imul(link, 0x9e3779b1)) | 1;
    return link;
  }

  /** The slot of the current key in `found` (young generation first), or -1. */
  private findKey(): number {
    found = this.young;
    const slot = this.young.findVisitor(keyHigh, keyLow);
    if (slot >= 0) return slot;
    found = this.old;
    return this.old.findVisitor(keyHigh, keyLow);
  }

  /** The click id to reuse for this visitor on this link, if its first click is less than an hour old. */
  findByVisitor(linkId: string, visitorHash: string, nowMs: number): string | null {
    this.setKey(linkId, visitorHash);
    const slot = this.findKey();
    return slot >= 0 && isRecent(found.times[slot]!, nowMs) ? found.uuids[slot]! : null;
  }

  /** Whether a click id (from the visitor's cookie) was made on this link less than an hour ago. */
  isRecentClickOf(clickUuid: string, linkId: string, nowMs: number): boolean {
    const link = this.linkNumbers.get(linkId);
    if (link === undefined) return false;
    let generation = this.young;
    let slot = generation.findClick(clickUuid);
    if (slot < 0) {
      generation = this.old;
      slot = generation.findClick(clickUuid);
    }
    return slot >= 0 && generation.links[slot] === link && isRecent(generation.times[slot]!, nowMs);
  }

  /**
   * The redirect's one call: the visitor's click id on this link from the last hour, or a new one
   * (from `newUuid`) remembered from now on. The key is hashed once for the lookup and the insert.
   */
  claim(linkId: string, visitorHash: string, nowMs: number, newUuid: () => string): { uuid: string; reused: boolean } {
    const link = this.setKey(linkId, visitorHash);
    const slot = this.findKey();
    if (slot >= 0 && isRecent(found.times[slot]!, nowMs)) return { uuid: found.uuids[slot]!, reused: true };
    const uuid = newUuid();
    this.store(linkId, visitorHash, link, nowMs, uuid);
    return { uuid, reused: false };
  }

  remember(linkId: string, visitorHash: string, clickUuid: string, nowMs: number): void {
    this.store(linkId, visitorHash, this.setKey(linkId, visitorHash), nowMs, clickUuid);
  }

  /** Stores under the current key (set by `setKey` for this link and visitor; `link` is its number). */
  private store(linkId: string, visitorHash: string, link: number, atMs: number, uuid: string): void {
    if (this.young.count >= this.generationSize) {
      const recycled = this.old;
      recycled.clear();
      this.old = this.young;
      this.young = recycled;
      // Links seen only in the forgotten generation would otherwise be remembered forever. Keys
      // depend on link numbers, so this one's is made again.
      if (this.linkNumbers.size > Math.max(4 * this.generationSize, MAX_LINK_NUMBERS)) {
        this.forgetLinks();
        link = this.setKey(linkId, visitorHash);
      }
    }
    this.young.store(keyHigh, keyLow, link, atMs, uuid);
  }

  private forgetLinks(): void {
    this.linkNumbers = new Map();
    this.young.clear();
    this.old.clear();
  }
}

/** Distinct links numbered before the numbering starts again (with both generations forgotten). */
const MAX_LINK_NUMBERS = 65_536;

/** The key of the last visitor lookup and the generation `findKey` looked in last (module state: the hot path allocates nothing for them). */
let keyHigh = 0;
let keyLow = 1;
let found: ClickGeneration;

const isRecent = (atMs: number, nowMs: number) => nowMs - atMs < CLICK_REUSE_MS && nowMs >= atMs;

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
