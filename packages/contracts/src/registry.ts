import { accountEndpoints } from './accounts.js';
import { disputeEndpoints } from './disputes.js';
import { fraudEndpoints } from './fraud.js';
import { metaEndpoints } from './meta.js';
import { trackingEndpoints } from './tracking.js';
import { customerEndpoints } from './customers.js';
import { webhookEndpoints } from './webhooks.js';
import { auditEndpoints } from './audit.js';
import { privacyEndpoints } from './privacy.js';
import { conversionImportEndpoints, exportEndpoints, importEndpoints } from './exports.js';
import { streamEndpoints } from './stream.js';
import { programEndpoints } from './programs.js';
import { partnerEndpoints } from './partners.js';
import { portalEndpoints } from './portal.js';
import { partnershipEndpoints } from './partnerships.js';
import { linkEndpoints } from './links.js';
import { commissionEndpoints } from './commissions.js';
import { ledgerEndpoints } from './ledger.js';
import { payoutEndpoints } from './payouts.js';

/** Every endpoint of the public API, by name. The OpenAPI document and the SDK are built from it. */
export const endpoints = {
  ...metaEndpoints,
  ...accountEndpoints,
  ...disputeEndpoints,
  ...fraudEndpoints,
  ...trackingEndpoints,
  ...customerEndpoints,
  ...webhookEndpoints,
  ...auditEndpoints,
  ...privacyEndpoints,
  ...exportEndpoints,
  ...importEndpoints,
  ...conversionImportEndpoints,
  ...streamEndpoints,
  ...programEndpoints,
  ...partnerEndpoints,
  ...portalEndpoints,
  ...partnershipEndpoints,
  ...linkEndpoints,
  ...commissionEndpoints,
  ...ledgerEndpoints,
  ...payoutEndpoints,
} as const;
export type Endpoints = typeof endpoints;
