import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeRandom, idTime, newId, uuidv7 } from './ids.js';

describe('newId', () => {
  it('is prefixed, 26 characters of lowercase base32 after the prefix', () => {
    expect(newId('ws')).toMatch(/^ws_[0-9a-z]{26}$/);
  });

  it('sorts by creation, also within one millisecond', () => {
    const ids = Array.from({ length: 500 }, () => newId('com', 1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encodes its creation time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (ms) => {
        expect(idTime(newId('sal', ms))).toBe(ms);
      }),
    );
  });
});

describe('encodeRandom', () => {
  it('writes 80 bits as 16 base32 digits, most significant first', () => {
    const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 10, maxLength: 10 }), (bytes) => {
        let bits = 0n;
        for (const b of bytes) bits = (bits << 8n) | BigInt(b);
        let expected = '';
        for (let i = 0; i < 16; i++) {
          expected = alphabet[Number(bits & 31n)]! + expected;
          bits >>= 5n;
        }
        expect(encodeRandom(bytes)).toBe(expected);
      }),
    );
  });
});

describe('uuidv7', () => {
  it('is a version-7 RFC 9562 uuid whose first 48 bits are the time', () => {
    const u = uuidv7(0x0123456789ab);
    expect(u).toMatch(/^01234567-89ab-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
