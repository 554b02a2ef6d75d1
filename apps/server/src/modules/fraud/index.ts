// Rewards' hooks first: fraud scores the commission they have just created in the same transaction.
import '../rewards/index.js';
import { addConversionHooks } from '../tracking/hooks.js';
import { fraudConversionHooks } from './hooks.js';

/*
 * Fraud guardrails: importing this module (app.ts) registers its conversion hooks after the
 * rewards module's. Other modules use the exports below.
 */
addConversionHooks(fraudConversionHooks);

export { fraudRoutes } from './routes.js';
export { holdAllPending, decideHeldCommission } from './reviews.js';
export { recordPartnerIdentity, recordPartnerRequestIp } from './identities.js';
