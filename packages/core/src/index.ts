export * from './ids.js';
export * from './rate-limit.js';
export * from './slug.js';
export * from './links.js';
export * from './clicks.js';
