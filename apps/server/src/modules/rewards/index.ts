import { addConversionHooks } from '../tracking/hooks.js';
import { offerCouponReads, onLead, onRefund, onSale } from './engine.js';

/*
 * The rewards module reacts to conversions inside tracking's transaction (see tracking/hooks.ts):
 * importing this module once (app.ts) registers the hooks. Fraud review and disputes use the
 * exported holds, releases, reversals and adjustments.
 */
addConversionHooks({ onLead, onSale, onRefund, offerCouponReads });

export { holdCommission, releaseCommission, reverseCommission, createAdjustment } from './adjust.js';
export { SETTLED_OFFSET_SQL } from './commissions.js';
export { runMaturity } from './maturity.js';
