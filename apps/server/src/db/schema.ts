// Every table of every module, for Drizzle's migration generator and typed queries.
export * from '../modules/accounts/schema.js';
export * from '../jobs/schema.js';
