export { createClient, type ClientOptions } from './client.js';
export { ApiError } from '@tandem/contracts';
export { createTracking, type TrackingOptions } from './tracking.js';
