export { createClient, type ClientOptions } from './client.js';
export { ApiError } from '@tandem/contracts';
