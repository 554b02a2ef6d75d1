/*
 * Integer money arithmetic. Amounts are minor units; percentages have at most two decimals and
 * multipliers are decimals, so both are scaled to integers and the arithmetic is done in BigInt:
 * `sale.amount × pct` can exceed 2^53 and a float product would round the wrong way at halves.
 * Rounding is "halves rounded up" (rewards.md step 5) for the non-negative values used here.
 */

function divideHalfUp(numerator: bigint, denominator: bigint): number {
  if (numerator < 0n) return -divideHalfUp(-numerator, denominator);
  return Number((numerator * 2n + denominator) / (denominator * 2n));
}

/** round(amount × pct / 100), pct with at most two decimals. */
export function percentOf(amount: number, pct: number): number {
  const hundredths = BigInt(Math.round(pct * 100));
  return divideHalfUp(BigInt(amount) * hundredths, 10_000n);
}

/** round(amount × multiplier); multipliers are taken to six decimals. */
export function multiplyAmount(amount: number, multiplier: number): number {
  const millionths = BigInt(Math.round(multiplier * 1_000_000));
  return divideHalfUp(BigInt(amount) * millionths, 1_000_000n);
}

/** round(whole × part / total), the refund reduction of rewards.md. */
export function proportionOf(whole: number, part: number, total: number): number {
  if (total <= 0) return whole;
  return divideHalfUp(BigInt(whole) * BigInt(part), BigInt(total));
}
