import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ATTRIBUTION_SKEW_MS, clickInWindow, DAY_MS, decideAttribution, type Touch } from './attribution.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');

const click = (partnerId: string, at: number, over: Partial<Touch> = {}): Touch => ({
  via: 'click',
  clickId: `clk_${partnerId}_${at}`,
  programId: 'prg_a',
  partnerId,
  enrollmentId: `enr_${partnerId}`,
  at,
  windowDays: 30,
  model: 'last_touch',
  ...over,
});
const coupon = (partnerId: string, at: number, over: Partial<Touch> = {}): Touch => ({
  ...click(partnerId, at, over),
  via: 'coupon',
  clickId: null,
  ...over,
});

describe('clickInWindow', () => {
  it('counts a click exactly windowDays before the conversion and refuses one a millisecond earlier', () => {
    expect(clickInWindow(T0 - 30 * DAY_MS, T0, 30)).toBe('ok');
    expect(clickInWindow(T0 - 30 * DAY_MS - 1, T0, 30)).toBe('before_window');
  });

  it('is exact to the second at the window edge', () => {
    expect(clickInWindow(T0 - 7 * DAY_MS + 1000, T0, 7)).toBe('ok');
    expect(clickInWindow(T0 - 7 * DAY_MS - 1000, T0, 7)).toBe('before_window');
  });

  it('allows a click up to 5 minutes after the conversion (clock skew) and no later', () => {
    expect(clickInWindow(T0 + ATTRIBUTION_SKEW_MS, T0, 30)).toBe('ok');
    expect(clickInWindow(T0 + ATTRIBUTION_SKEW_MS + 1, T0, 30)).toBe('in_future');
  });

  it('agrees with the window inequality for any times (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 365 }), fc.integer({ min: -400 * 86400, max: 86400 }), (days, offsetSeconds) => {
        const at = T0 + offsetSeconds * 1000;
        const inside = T0 - days * DAY_MS <= at && at <= T0 + ATTRIBUTION_SKEW_MS;
        expect(clickInWindow(at, T0, days) === 'ok').toBe(inside);
      }),
    );
  });
});

describe('decideAttribution', () => {
  it('attributes a new customer to the click inside the window', () => {
    const d = decideAttribution({ occurredAt: T0, touches: [click('p1', T0 - DAY_MS)], current: null });
    expect(d).toMatchObject({ reason: 'new', attribution: { partnerId: 'p1', via: 'click' } });
  });

  it('leaves a conversion unattributed when its only click is outside the window', () => {
    const d = decideAttribution({ occurredAt: T0, touches: [click('p1', T0 - 31 * DAY_MS)], current: null });
    expect(d.attribution).toBeNull();
    expect(d.reason).toBe('none');
    expect(d.rejected).toEqual([{ touch: expect.objectContaining({ partnerId: 'p1' }), why: 'before_window' }]);
  });

  it('attributes by coupon without any click, whatever the age of the program window', () => {
    const d = decideAttribution({ occurredAt: T0, touches: [coupon('p2', T0, { windowDays: 1 })], current: null });
    expect(d).toMatchObject({ reason: 'new', attribution: { partnerId: 'p2', via: 'coupon', clickId: null } });
  });

  it('first touch: a customer attributed to p1 stays with p1 when a later click of p2 arrives', () => {
    const first = click('p1', T0 - 10 * DAY_MS, { model: 'first_touch' });
    const d = decideAttribution({ occurredAt: T0, touches: [click('p2', T0 - DAY_MS, { model: 'first_touch' })], current: first });
    expect(d).toMatchObject({ reason: 'kept_first_touch', attribution: { partnerId: 'p1' } });
  });

  it('last touch: a later click of p2 inside the window takes the customer over', () => {
    const first = click('p1', T0 - 10 * DAY_MS);
    const d = decideAttribution({ occurredAt: T0, touches: [click('p2', T0 - DAY_MS)], current: first });
    expect(d).toMatchObject({ reason: 'replaced_last_touch', attribution: { partnerId: 'p2' } });
  });

  it('last touch: a newer click outside the window does not take the customer over', () => {
    const first = click('p1', T0 - 100 * DAY_MS);
    const d = decideAttribution({ occurredAt: T0, touches: [click('p2', T0 - 40 * DAY_MS)], current: first });
    expect(d).toMatchObject({ reason: 'kept_current', attribution: { partnerId: 'p1' } });
  });

  it('last touch: an older imported click does not replace a newer attribution', () => {
    const current = click('p1', T0 - DAY_MS);
    const d = decideAttribution({ occurredAt: T0, touches: [click('p2', T0 - 2 * DAY_MS)], current });
    expect(d).toMatchObject({ reason: 'kept_current', attribution: { partnerId: 'p1' } });
  });

  it('keeps an attributed customer when a later conversion carries nothing', () => {
    const current = click('p1', T0 - 300 * DAY_MS);
    expect(decideAttribution({ occurredAt: T0, touches: [], current })).toMatchObject({
      reason: 'kept_current',
      attribution: { partnerId: 'p1' },
    });
  });

  it('with a click and a coupon on one conversion, last touch prefers the coupon used now and first touch the click', () => {
    const last = decideAttribution({ occurredAt: T0, touches: [click('p1', T0 - DAY_MS), coupon('p2', T0)], current: null });
    expect(last.attribution).toMatchObject({ partnerId: 'p2', via: 'coupon' });
    const first = decideAttribution({
      occurredAt: T0,
      touches: [click('p1', T0 - DAY_MS, { model: 'first_touch' }), coupon('p2', T0, { model: 'first_touch' })],
      current: null,
    });
    expect(first.attribution).toMatchObject({ partnerId: 'p1', via: 'click' });
  });

  it('prefers the click over a coupon at the same instant', () => {
    const d = decideAttribution({ occurredAt: T0, touches: [coupon('p2', T0), click('p1', T0)], current: null });
    expect(d.attribution).toMatchObject({ partnerId: 'p1' });
  });

  it('never attributes to a touch outside its window, and always attributes when one is inside (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            offsetSeconds: fc.integer({ min: -60 * 86400, max: 600 }),
            windowDays: fc.integer({ min: 1, max: 60 }),
            model: fc.constantFrom('first_touch' as const, 'last_touch' as const),
          }),
          { maxLength: 4 },
        ),
        (specs) => {
          const touches = specs.map((s, i) =>
            click(`p${i}`, T0 + s.offsetSeconds * 1000, { windowDays: s.windowDays, model: s.model, clickId: `clk_${i}` }),
          );
          const d = decideAttribution({ occurredAt: T0, touches, current: null });
          const inside = touches.filter((t) => clickInWindow(t.at, T0, t.windowDays) === 'ok');
          if (inside.length === 0) expect(d.attribution).toBeNull();
          else expect(inside).toContain(d.attribution);
          expect(d.rejected.length + inside.length).toBe(touches.length);
        },
      ),
    );
  });
});
