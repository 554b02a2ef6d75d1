import { DAY_MS, clickIdFromUuid } from '@tandem/core';
import type { Random } from './random.js';

/*
 * Simulated history: ~90 days of clicks per partner link, and the leads, sales and refunds that
 * followed some of them. Pure: the PRNG and `now` go in, rows and conversions come out; the
 * seeder writes the clicks and sends the conversions through the tracking API in time order.
 */

export interface TrafficSource {
  workspaceId: string;
  programId: string;
  partnerId: string;
  linkId: string;
  /** Average clicks a day at the end of the period (traffic grows over the 90 days). */
  dailyClicks: number;
  /** Share of clicks that sign up. */
  leadRate: number;
  /** Share of leads that buy. */
  saleRate: number;
  currency: string;
  /** Prefix of the brand's customer and invoice ids, e.g. `nw`. */
  prefix: string;
}

export interface SimulatedClick {
  workspaceId: string;
  uuid: string;
  linkId: string;
  programId: string;
  partnerId: string;
  at: Date;
  visitorHash: string;
  ipHash: string;
  country: string;
  device: string;
  browser: string;
  os: string;
  referrerHost: string | null;
}

export type Conversion =
  | { kind: 'lead'; at: number; workspaceId: string; body: LeadBody }
  | { kind: 'sale'; at: number; workspaceId: string; body: SaleBody }
  | { kind: 'refund'; at: number; workspaceId: string; body: { invoiceId: string; amount?: number; occurredAt: string } };

export interface LeadBody {
  clickId?: string;
  customer: { externalId: string; email?: string; name?: string; country?: string };
  occurredAt: string;
  consent?: boolean;
}
export interface SaleBody extends Omit<LeadBody, 'clickId'> {
  clickId?: string;
  amount: number;
  currency: string;
  invoiceId: string;
  productId: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'CA', 'NL', 'SE', 'AU'] as const;
const COUNTRY_WEIGHTS = [40, 14, 12, 8, 9, 6, 5, 6];
const DEVICES = [
  { device: 'mobile', os: 'iOS', browser: 'Mobile Safari' },
  { device: 'mobile', os: 'Android', browser: 'Chrome Mobile' },
  { device: 'desktop', os: 'macOS', browser: 'Safari' },
  { device: 'desktop', os: 'Windows', browser: 'Chrome' },
  { device: 'desktop', os: 'Windows', browser: 'Edge' },
  { device: 'tablet', os: 'iPadOS', browser: 'Mobile Safari' },
] as const;
const DEVICE_WEIGHTS = [34, 22, 14, 16, 6, 8];
const REFERRERS = ['instagram.com', 'youtube.com', 'tiktok.com', 'newsletter.example', null, 'pinterest.com', 'reddit.com'] as const;
const REFERRER_WEIGHTS = [26, 18, 16, 12, 14, 8, 6];
const FIRST_NAMES = [
  'Ava',
  'Ben',
  'Chloe',
  'Diego',
  'Emma',
  'Felix',
  'Grace',
  'Hugo',
  'Iris',
  'Jonas',
  'Kira',
  'Liam',
  'Maya',
  'Noah',
  'Olivia',
  'Priya',
  'Quinn',
  'Rosa',
  'Sven',
  'Tara',
  'Uma',
  'Victor',
  'Wen',
  'Yara',
  'Zane',
];
const LAST_NAMES = [
  'Adams',
  'Berg',
  'Costa',
  'Dubois',
  'Evans',
  'Fischer',
  'Garcia',
  'Hansen',
  'Ito',
  'Jansen',
  'Khan',
  'Larsen',
  'Moreau',
  'Nowak',
  'Okafor',
  'Patel',
  'Rossi',
  'Silva',
  'Tanaka',
  'Weber',
];

export interface Product {
  id: string;
  price: number;
  weight: number;
}

/** Brand-specific catalogues, prices in minor units. */
export const CATALOGUES: Record<string, Product[]> = {
  nw: [
    { id: 'beans-250g', price: 1800, weight: 40 },
    { id: 'subscription-monthly', price: 3200, weight: 30 },
    { id: 'burr-grinder', price: 12900, weight: 12 },
    { id: 'espresso-machine', price: 49900, weight: 4 },
    { id: 'gift-box', price: 6500, weight: 14 },
  ],
  bb: [
    { id: 'sourdough-loaf', price: 900, weight: 40 },
    { id: 'pastry-box', price: 2400, weight: 35 },
    { id: 'celebration-cake', price: 5800, weight: 15 },
    { id: 'baking-class', price: 8900, weight: 10 },
  ],
};

/**
 * A UUIDv7 of the given time (the layout of @tandem/core's `uuidv7`) whose random bits come from
 * the seeded PRNG, so the simulated history is the same on every run.
 */
export function seededUuidv7(ms: number, random: Random): string {
  const hex =
    ms.toString(16).padStart(12, '0') + '7' + random.hex(3) + ((8 + random.int(0, 3)).toString(16) + random.hex(3)) + random.hex(12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface SimulationResult {
  clicks: SimulatedClick[];
  conversions: Conversion[];
}

/**
 * Clicks for each source over `days` days before `now`, then leads (10 min – 36 h after the click),
 * sales (within 4 days of the lead, carrying the click id), some repeat purchases a month later
 * (no click: the customer's standing attribution decides) and a few refunds. Nothing lies in the
 * future. About one customer in ten withholds consent, so only the attribution is kept.
 */
export function simulateTraffic(
  random: Random,
  sources: readonly TrafficSource[],
  now: number,
  days: number,
  customerSeq: { next: number },
): SimulationResult {
  const clicks: SimulatedClick[] = [];
  const conversions: Conversion[] = [];
  const latest = now - 10 * MINUTE_MS;
  const start = now - days * DAY_MS;
  for (const source of sources) {
    const catalogue = CATALOGUES[source.prefix] ?? CATALOGUES.nw!;
    for (let day = 0; day < days; day++) {
      const growth = 0.45 + 0.55 * (day / days);
      const dayStart = start + day * DAY_MS;
      const weekend = [0, 6].includes(new Date(dayStart).getUTCDay()) ? 1.25 : 1;
      const count = random.poisson(source.dailyClicks * growth * weekend);
      for (let i = 0; i < count; i++) {
        const at = dayStart + random.int(0, DAY_MS - 1);
        if (at > latest) continue;
        const uuid = seededUuidv7(at, random);
        const device = random.weighted(DEVICES, DEVICE_WEIGHTS);
        clicks.push({
          workspaceId: source.workspaceId,
          uuid,
          linkId: source.linkId,
          programId: source.programId,
          partnerId: source.partnerId,
          at: new Date(at),
          visitorHash: random.hex(43),
          ipHash: random.hex(43),
          country: random.weighted(COUNTRIES, COUNTRY_WEIGHTS),
          ...device,
          referrerHost: random.weighted(REFERRERS, REFERRER_WEIGHTS),
        });
        if (!random.chance(source.leadRate)) continue;
        const leadAt = at + random.int(10 * MINUTE_MS, 36 * HOUR_MS);
        if (leadAt > latest) continue;
        const n = customerSeq.next++;
        const first = random.pick(FIRST_NAMES);
        const last = random.pick(LAST_NAMES);
        const consent = !random.chance(0.1);
        const customer = {
          externalId: `${source.prefix}-cust-${String(n).padStart(5, '0')}`,
          email: `${first}.${last}.${n}@example.com`.toLowerCase(),
          name: `${first} ${last}`,
          country: random.weighted(COUNTRIES, COUNTRY_WEIGHTS),
        };
        const clickId = clickIdFromUuid(uuid);
        conversions.push({
          kind: 'lead',
          at: leadAt,
          workspaceId: source.workspaceId,
          body: { clickId, customer, occurredAt: new Date(leadAt).toISOString(), ...(consent ? {} : { consent: false }) },
        });
        if (!random.chance(source.saleRate)) continue;
        let saleAt = leadAt + random.int(5 * MINUTE_MS, 4 * DAY_MS);
        let purchase = 0;
        while (saleAt <= latest && purchase < 3) {
          purchase++;
          const product = random.weighted(
            catalogue,
            catalogue.map((p) => p.weight),
          );
          const quantity = product.price < 2000 ? random.int(1, 3) : 1;
          const invoiceId = `${source.prefix}-inv-${String(n).padStart(5, '0')}-${purchase}`;
          conversions.push({
            kind: 'sale',
            at: saleAt,
            workspaceId: source.workspaceId,
            body: {
              ...(purchase === 1 ? { clickId } : {}),
              customer: { externalId: customer.externalId },
              amount: product.price * quantity,
              currency: source.currency,
              invoiceId,
              productId: product.id,
              occurredAt: new Date(saleAt).toISOString(),
              ...(consent ? {} : { consent: false }),
            },
          });
          if (random.chance(0.07)) {
            const refundAt = saleAt + random.int(HOUR_MS, 12 * DAY_MS);
            const partial = random.chance(0.4);
            if (refundAt <= latest) {
              conversions.push({
                kind: 'refund',
                at: refundAt,
                workspaceId: source.workspaceId,
                body: {
                  invoiceId,
                  ...(partial ? { amount: Math.floor((product.price * quantity) / 2) } : {}),
                  occurredAt: new Date(refundAt).toISOString(),
                },
              });
            }
          }
          // Some customers come back a few weeks later (lifetime / recurring commissions).
          if (!random.chance(0.3)) break;
          saleAt += random.int(18 * DAY_MS, 40 * DAY_MS);
        }
      }
    }
  }
  clicks.sort((a, b) => a.at.getTime() - b.at.getTime());
  conversions.sort((a, b) => a.at - b.at);
  return { clicks, conversions };
}
