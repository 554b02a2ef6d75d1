export * from './types.js';
export * from './rules.js';
export * from './score.js';
export * from './disposable-domains.js';
export * from './dispute-lifecycle.js';
