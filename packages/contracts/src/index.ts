export * from './errors.js';
export * from './common.js';
export * from './endpoint.js';
export * from './meta.js';
export * from './accounts.js';
export { endpoints, type Endpoints } from './registry.js';
export * from './rules.js';
