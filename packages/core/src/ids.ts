import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * Prefixed, time-sortable ids (`ws_01jd3…`): 48 bits of milliseconds then 80 random bits, in
 * lowercase Crockford base32 (26 characters). Ids made in the same millisecond by one process
 * increase monotonically, so ordering by id is ordering by creation, which keyset pagination uses.
 * An id made for a past instant (imports, an injected clock) carries that instant.
 */
const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

let lastMs = -1;
const lastRandom = new Uint8Array(10);

/** Random bytes drawn from the system CSPRNG 4 KiB at a time: one system call per ~400 ids, not per id. */
const randomPool = new Uint8Array(4096);
let randomPoolAt = randomPool.length;

function fillRandom(bytes: Uint8Array): void {
  if (randomPoolAt + bytes.length > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolAt = 0;
  }
  bytes.set(randomPool.subarray(randomPoolAt, randomPoolAt + bytes.length));
  randomPoolAt += bytes.length;
}

function incrementRandom(bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 255) {
      bytes[i]! += 1;
      return;
    }
    bytes[i] = 0;
  }
}

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = alphabet[rest % 32]! + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/** 40 bits (five bytes from `at`) → 8 base32 characters; 40 bits fit a double exactly, no BigInt. */
function encode40(bytes: Uint8Array, at: number): string {
  let value = 0;
  for (let i = at; i < at + 5; i++) value = value * 256 + bytes[i]!;
  let out = '';
  for (let i = 0; i < 8; i++) {
    out = alphabet[value % 32]! + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/** 80 bits → 16 base32 characters (exported for tests). */
export function encodeRandom(bytes: Uint8Array): string {
  return encode40(bytes, 0) + encode40(bytes, 5);
}

/** A new time-sortable id body (26 chars) for the given clock. */
export function newIdBody(nowMs: number = Date.now()): string {
  if (nowMs === lastMs) {
    incrementRandom(lastRandom);
    return encodeTime(nowMs) + encodeRandom(lastRandom);
  }
  lastMs = nowMs;
  fillRandom(lastRandom);
  lastRandom[0] = lastRandom[0]! & 0x7f; // leave headroom so increments never wrap
  return encodeTime(nowMs) + encodeRandom(lastRandom);
}

export type IdPrefix =
  | 'ws' | 'usr' | 'ses' | 'key' | 'inv' | 'job' | 'prg' | 'ptn' | 'enr' | 'lnk' | 'clk' | 'cus'
  | 'led' | 'sal' | 'ref' | 'com' | 'pay' | 'pbt' | 'psh' | 'dsp' | 'app' | 'vot' | 'whk' | 'evt'
  | 'aud' | 'trm' | 'rul' | 'jen' | 'sig' | 'cmt' | 'dlv' | 'imp' | 'ast' | 'ene' | 'psl'
  | 'stl' | 'emv' | 'pwr';

export function newId(prefix: IdPrefix, nowMs?: number): string {
  return `${prefix}_${newIdBody(nowMs)}`;
}

/** The creation time encoded in an id made by {@link newId}. */
export function idTime(id: string): number {
  const body = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 11);
  let ms = 0;
  for (const ch of body) ms = ms * 32 + alphabet.indexOf(ch);
  return ms;
}

/**
 * UUIDv7 (RFC 9562) for high-volume rows such as clicks: time-ordered so batch inserts append to
 * the index instead of scattering (random ids made batch commits up to 2× slower).
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const bytes = randomBytes(16);
  const ms = BigInt(nowMs);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
