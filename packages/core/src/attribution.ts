/*
 * Attribution: which partner (if any) a conversion belongs to. Pure: the shell resolves click ids
 * and coupon codes to touches, this decides.
 *
 * Rules (api.md "Tracking"):
 * - a click counts when `occurredAt − windowDays ≤ click time ≤ occurredAt + 5 min` (the skew
 *   lets a conversion reported by a server whose clock runs slightly behind still see the click);
 * - a coupon code has no window: it attributes whenever it is used (its touch time is the
 *   conversion's own time);
 * - a customer already attributed stays attributed (a referral does not expire with the cookie);
 *   with `first_touch` the earliest touch keeps the customer, with `last_touch` a newer eligible
 *   touch takes it over.
 */

export const ATTRIBUTION_SKEW_MS = 5 * 60 * 1000;
export const DAY_MS = 24 * 3600 * 1000;

export type AttributionModel = 'first_touch' | 'last_touch';

/** One way a conversion (or an earlier one) points at a partner. */
export interface Touch {
  via: 'click' | 'coupon';
  clickId: string | null;
  programId: string;
  partnerId: string;
  enrollmentId: string;
  /** When the touch happened: the click's time, or the conversion's time for a coupon. */
  at: number;
  /** The touch's program settings. */
  windowDays: number;
  model: AttributionModel;
}

export interface AttributionInput {
  /** The conversion's time (ms since epoch). */
  occurredAt: number;
  /** Touches this conversion carries (its click id, its coupon code), already resolved. */
  touches: readonly Touch[];
  /** The customer's standing attribution from earlier conversions, or null. */
  current: Touch | null;
}

export type AttributionReason =
  | 'new' // no previous attribution; a touch of this conversion attributes
  | 'kept_first_touch' // attributed before; the program keeps the first touch
  | 'replaced_last_touch' // attributed before; a newer touch takes over
  | 'kept_current' // attributed before; nothing newer (or nothing eligible) arrived
  | 'none'; // nothing attributes

export interface AttributionDecision {
  attribution: Touch | null;
  reason: AttributionReason;
  /** Touches of this conversion that were refused, and why (for logs and tests). */
  rejected: { touch: Touch; why: 'before_window' | 'in_future' }[];
}

/** Whether a click made at `clickAt` counts for a conversion at `occurredAt` (both ms). */
export function clickInWindow(clickAt: number, occurredAt: number, windowDays: number): 'ok' | 'before_window' | 'in_future' {
  if (clickAt < occurredAt - windowDays * DAY_MS) return 'before_window';
  if (clickAt > occurredAt + ATTRIBUTION_SKEW_MS) return 'in_future';
  return 'ok';
}

/** Latest first; equal times prefer a click over a coupon (the more specific signal), then the id. */
const newestFirst = (a: Touch, b: Touch): number =>
  b.at - a.at || (a.via === b.via ? 0 : a.via === 'click' ? -1 : 1) || (a.clickId ?? '').localeCompare(b.clickId ?? '');

export function decideAttribution(input: AttributionInput): AttributionDecision {
  const rejected: AttributionDecision['rejected'] = [];
  const eligible: Touch[] = [];
  for (const touch of input.touches) {
    if (touch.via === 'coupon') {
      eligible.push(touch);
      continue;
    }
    const verdict = clickInWindow(touch.at, input.occurredAt, touch.windowDays);
    if (verdict === 'ok') eligible.push(touch);
    else rejected.push({ touch, why: verdict });
  }
  eligible.sort(newestFirst);

  const { current } = input;
  if (current) {
    if (current.model === 'first_touch') return { attribution: current, reason: 'kept_first_touch', rejected };
    const newer = eligible.find((t) => t.at > current.at);
    if (newer) return { attribution: newer, reason: 'replaced_last_touch', rejected };
    return { attribution: current, reason: 'kept_current', rejected };
  }

  if (eligible.length === 0) return { attribution: null, reason: 'none', rejected };
  // The newest touch names the program whose model decides among that program's touches.
  const lead = eligible[0]!;
  if (lead.model === 'last_touch') return { attribution: lead, reason: 'new', rejected };
  const sameProgram = eligible.filter((t) => t.programId === lead.programId);
  return { attribution: sameProgram[sameProgram.length - 1]!, reason: 'new', rejected };
}
