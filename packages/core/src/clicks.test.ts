import { expect, it } from 'vitest';
import fc from 'fast-check';
import { clickIdFromUuid, clickTime, uuidFromClickId } from './clicks.js';
import { uuidv7 } from './ids.js';

it('round-trips click ids and reads their time', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 47 }), (ms) => {
      const uuid = uuidv7(ms);
      const id = clickIdFromUuid(uuid);
      expect(id).toMatch(/^clk_[0-9a-f]{32}$/);
      expect(uuidFromClickId(id)).toBe(uuid);
      expect(clickTime(id)).toBe(ms);
    }),
  );
  expect(uuidFromClickId('clk_nothex')).toBeNull();
  expect(uuidFromClickId('sal_0123456789abcdef0123456789abcdef')).toBeNull();
});
