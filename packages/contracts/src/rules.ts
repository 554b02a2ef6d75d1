import { z } from 'zod';

/*
 * The rules document of a program (../shared/spec/rewards.md), validated strictly: unknown keys
 * are a 422 naming the path. Amounts are integer minor units; percentages have at most two
 * decimals. Evaluation lives in packages/core (rewards); this is only the shape.
 */

const twoDecimals = (n: number) => Math.abs(Math.round(n * 100) - n * 100) < 1e-9;

export const flatReward = z.strictObject({ type: z.literal('flat'), amount: z.number().int().min(0).max(1_000_000_000) });
export const percentageReward = z.strictObject({
  type: z.literal('percentage'),
  amount: z.number().min(0).max(100).refine(twoDecimals, 'must have at most two decimals'),
});
export const reward = z.discriminatedUnion('type', [flatReward, percentageReward]);
export type Reward = z.infer<typeof reward>;

export const period = z.enum(['month', 'quarter', 'year']);
export type Period = z.infer<typeof period>;

export const saleDuration = z.union([z.literal('once'), z.literal('lifetime'), z.strictObject({ months: z.number().int().min(1).max(120) })]);
export type SaleDuration = z.infer<typeof saleDuration>;

export const conditionField = z.enum(['sale.amount', 'sale.productId', 'sale.currency', 'customer.country', 'partner.tags']);
export const conditionOp = z.enum(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains']);
const scalar = z.union([z.string().max(200), z.number()]);
export const condition = z
  .strictObject({ field: conditionField, op: conditionOp, value: z.union([scalar, z.array(scalar).max(200)]) })
  .superRefine((c, ctx) => {
    const isList = Array.isArray(c.value);
    if ((c.op === 'in' || c.op === 'nin') && !isList) ctx.addIssue({ code: 'custom', path: ['value'], message: `must be a list for '${c.op}'` });
    if (c.op !== 'in' && c.op !== 'nin' && isList) ctx.addIssue({ code: 'custom', path: ['value'], message: `must be a single value for '${c.op}'` });
    if (c.op === 'contains' && c.field !== 'partner.tags') ctx.addIssue({ code: 'custom', path: ['op'], message: "'contains' applies to partner.tags only" });
    if (['gt', 'gte', 'lt', 'lte'].includes(c.op) && typeof c.value !== 'number') ctx.addIssue({ code: 'custom', path: ['value'], message: `must be a number for '${c.op}'` });
  });
export type Condition = z.infer<typeof condition>;

export const modifier = z
  .strictObject({ event: z.enum(['sale', 'lead']), when: z.array(condition).max(20).default([]), type: z.enum(['flat', 'percentage']), amount: z.number().min(0) })
  .superRefine((m, ctx) => {
  if (m.type === 'flat' && !Number.isInteger(m.amount)) ctx.addIssue({ code: 'custom', path: ['amount'], message: 'must be an integer amount in minor units' });
  if (m.type === 'percentage' && (m.amount > 100 || !twoDecimals(m.amount))) ctx.addIssue({ code: 'custom', path: ['amount'], message: 'must be a percentage from 0 to 100 with at most two decimals' });
});
export type Modifier = z.infer<typeof modifier>;

export const tiers = z
  .strictObject({
    period,
    levels: z
      .array(
        z.union([
          z.strictObject({ min: z.number().int().min(0), type: z.literal('flat'), amount: z.number().int().min(0) }),
          z.strictObject({ min: z.number().int().min(0), type: z.literal('percentage'), amount: z.number().min(0).max(100).refine(twoDecimals, 'must have at most two decimals') }),
        ]),
      )
      .min(1)
      .max(50),
  })
  .superRefine((t, ctx) => {
    const mins = t.levels.map((l) => l.min);
    if (new Set(mins).size !== mins.length) ctx.addIssue({ code: 'custom', path: ['levels'], message: 'each level needs a distinct min' });
  });
export type Tiers = z.infer<typeof tiers>;

export const milestoneBonus = z.strictObject({ kind: z.literal('milestone'), period, threshold: z.number().int().min(1), amount: z.number().int().min(0) });
export const earlyBirdBonus = z.strictObject({
  kind: z.literal('early_bird'),
  period,
  first: z.number().int().min(1),
  scope: z.enum(['program', 'partner']).default('program'),
  amount: z.number().int().min(0),
});
export const bonus = z.discriminatedUnion('kind', [milestoneBonus, earlyBirdBonus]);
export type Bonus = z.infer<typeof bonus>;

export const boost = z
  .strictObject({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    multiplier: z.number().gt(0).max(100),
    partnerTags: z.array(z.string().min(1).max(64)).max(50).optional(),
  })
  .superRefine((b, ctx) => {
    if (Date.parse(b.from) >= Date.parse(b.to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  });
export type Boost = z.infer<typeof boost>;

export const cap = z.strictObject({ period, amount: z.number().int().min(0) });
export const qualification = z.strictObject({ holdDays: z.number().int().min(0).max(365).default(0), minSaleAmount: z.number().int().min(0).default(0) });

export const rulesDocument = z
  .strictObject({
    lead: flatReward.optional(),
    sale: z
      .discriminatedUnion('type', [
        flatReward.extend({ duration: saleDuration.optional() }),
        percentageReward.extend({ duration: saleDuration.optional() }),
      ])
      .optional(),
    modifiers: z.array(modifier).max(50).optional(),
    tiers: tiers.optional(),
    bonuses: z.array(bonus).max(20).optional(),
    boosts: z.array(boost).max(50).optional(),
    cap: cap.optional(),
    qualification: qualification.optional(),
    customerReward: z
      .discriminatedUnion('type', [
        flatReward.extend({ durationMonths: z.number().int().min(1).max(120).optional() }),
        percentageReward.extend({ durationMonths: z.number().int().min(1).max(120).optional() }),
      ])
      .optional(),
  })
  .meta({ id: 'RulesDocument', description: 'Reward rules per rewards.md; every key optional' });
export type RulesDocument = z.infer<typeof rulesDocument>;
