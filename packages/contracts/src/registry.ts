import { accountEndpoints } from './accounts.js';
import { metaEndpoints } from './meta.js';

/** Every endpoint of the public API, by name. The OpenAPI document and the SDK are built from it. */
export const endpoints = {
  ...metaEndpoints,
  ...accountEndpoints,
} as const;
export type Endpoints = typeof endpoints;
