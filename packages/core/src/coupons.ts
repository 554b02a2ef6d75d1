import { randomInt } from 'node:crypto';

/**
 * A readable coupon code from a partner's name: up to 8 letters of it, upper case, plus digits
 * (`ADALOVEL4821`). Readability matters because people type these at checkout; the digits make
 * collisions rare, and the caller retries on the unique index when one happens anyway.
 */
export function couponCodeFor(name: string, digits = 4, random: (max: number) => number = randomInt): string {
  const letters = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z]/g, '')
    .slice(0, 8);
  let suffix = '';
  for (let i = 0; i < digits; i++) suffix += String(random(10));
  return `${letters.length >= 2 ? letters : 'PARTNER'}${suffix}`;
}
