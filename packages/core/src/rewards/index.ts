export * from './periods.js';
export * from './money.js';
export * from './evaluate.js';
export * from './lifecycle.js';
export * from './replay.js';
