// Every table of every module, for Drizzle's migration generator and typed queries.
export * from '../modules/accounts/schema.js';
export * from '../jobs/schema.js';
export * from '../modules/programs/schema.js';
export * from '../modules/partners/schema.js';
export * from '../modules/links/schema.js';
export * from '../modules/events/schema.js';
export * from '../modules/audit/schema.js';
export * from '../modules/clicks/schema.js';
