export * from './journal.js';
export * from './chain.js';
