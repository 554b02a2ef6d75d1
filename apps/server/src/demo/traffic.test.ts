import { describe, expect, it } from 'vitest';
import { DAY_MS, clickIdFromUuid, clickTime } from '@tandem/core';
import { seededRandom } from './random.js';
import { seededUuidv7, simulateTraffic, type TrafficSource } from './traffic.js';

const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const sources: TrafficSource[] = [
  {
    workspaceId: 'ws_a',
    programId: 'prg_a',
    partnerId: 'ptn_1',
    linkId: 'lnk_1',
    dailyClicks: 12,
    leadRate: 0.08,
    saleRate: 0.6,
    currency: 'USD',
    prefix: 'nw',
  },
  {
    workspaceId: 'ws_b',
    programId: 'prg_b',
    partnerId: 'ptn_2',
    linkId: 'lnk_2',
    dailyClicks: 6,
    leadRate: 0.05,
    saleRate: 0.5,
    currency: 'USD',
    prefix: 'bb',
  },
];
const simulate = (seed = 7) => simulateTraffic(seededRandom(seed), sources, NOW, 90, { next: 1 });

describe('simulateTraffic', () => {
  it('gives the same history for the same seed and another for another seed', () => {
    expect(simulate()).toEqual(simulate());
    expect(simulate(8).clicks.length).not.toBe(simulate().clicks.length);
  });

  it('spreads clicks over the 90 days before now, never in the future, with ids carrying their time', () => {
    const { clicks } = simulate();
    expect(clicks.length).toBeGreaterThan(500);
    const times = clicks.map((c) => c.at.getTime());
    expect(Math.min(...times)).toBeGreaterThanOrEqual(NOW - 90 * DAY_MS);
    expect(Math.min(...times)).toBeLessThan(NOW - 85 * DAY_MS);
    expect(Math.max(...times)).toBeLessThanOrEqual(NOW);
    for (const c of clicks.slice(0, 50)) expect(clickTime(clickIdFromUuid(c.uuid))).toBe(c.at.getTime());
  });

  it('orders conversions in time: each lead after its click, each sale after its lead, each refund after its sale', () => {
    const { clicks, conversions } = simulate();
    const clickAt = new Map(clicks.map((c) => [clickIdFromUuid(c.uuid), c.at.getTime()]));
    const leadAt = new Map<string, number>();
    const saleAt = new Map<string, number>();
    let previous = 0;
    for (const c of conversions) {
      expect(c.at).toBeGreaterThanOrEqual(previous);
      expect(c.at).toBeLessThanOrEqual(NOW);
      previous = c.at;
      if (c.kind === 'lead') {
        expect(c.at).toBeGreaterThan(clickAt.get(c.body.clickId!)!);
        leadAt.set(c.body.customer.externalId, c.at);
      } else if (c.kind === 'sale') {
        expect(c.at).toBeGreaterThan(leadAt.get(c.body.customer.externalId)!);
        // The first purchase carries its click, inside the 30-day window; repeats rely on the standing attribution.
        if (c.body.clickId) expect(c.at - clickAt.get(c.body.clickId)!).toBeLessThan(30 * DAY_MS);
        saleAt.set(c.body.invoiceId, c.at);
      } else {
        expect(c.at).toBeGreaterThan(saleAt.get(c.body.invoiceId)!);
      }
    }
    expect(conversions.filter((c) => c.kind === 'sale').length).toBeGreaterThan(20);
    expect(conversions.some((c) => c.kind === 'sale' && !c.body.clickId)).toBe(true);
    expect(conversions.some((c) => c.kind === 'refund')).toBe(true);
  });

  it('has about one customer in ten withhold consent', () => {
    const leads = simulate().conversions.filter((c) => c.kind === 'lead');
    const withheld = leads.filter((c) => c.kind === 'lead' && c.body.consent === false);
    expect(withheld.length).toBeGreaterThan(0);
    expect(withheld.length).toBeLessThan(leads.length / 4);
  });
});

describe('seededUuidv7', () => {
  it('is a version-7, variant-1 UUID whose first 48 bits are the time', () => {
    const at = Date.parse('2026-03-01T08:30:00.123Z');
    const uuid = seededUuidv7(at, seededRandom(1));
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(clickTime(clickIdFromUuid(uuid))).toBe(at);
    expect(seededUuidv7(at, seededRandom(1))).toBe(uuid);
  });
});
