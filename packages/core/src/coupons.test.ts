import { describe, expect, it } from 'vitest';
import { couponCodeFor } from './coupons.js';

describe('couponCodeFor', () => {
  it('takes up to 8 letters of the name, upper case and without accents, plus digits', () => {
    expect(couponCodeFor('Zoë Ångström-Lee', 4, () => 7)).toBe('ZOEANGST7777');
  });
  it('falls back to PARTNER when the name has too few letters', () => {
    expect(couponCodeFor('42', 3, () => 1)).toBe('PARTNER111');
  });
  it('produces codes of letters then digits', () => {
    expect(couponCodeFor('Ada Lovelace')).toMatch(/^ADALOVEL\d{4}$/);
  });
});
