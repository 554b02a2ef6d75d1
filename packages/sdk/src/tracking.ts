import type { z } from 'zod';
import type {
  trackLeadBody,
  trackLeadResponse,
  trackRefundBody,
  trackRefundResponse,
  trackSaleBody,
  trackSaleResponse,
} from '@tandem/contracts';
import { ApiError } from '@tandem/contracts';
import { createClient, type ClientOptions } from './client.js';

export interface TrackingOptions extends ClientOptions {
  /**
   * Attempts for leads and sales when the network fails or the server answers 5xx (default 3).
   * Safe because both are idempotent on the server (customer + event, invoiceId); refunds are
   * not, so they are sent once.
   */
  attempts?: number;
  /** Delay before the first retry, doubled each time (default 200 ms). */
  retryDelayMs?: number;
}

const retryable = (error: unknown) => !(error instanceof ApiError) || error.status >= 500;

/**
 * Server-side conversion tracking for a brand's backend.
 *
 * @example
 * const tracking = createTracking({ baseUrl: 'https://tandem.example.com', apiKey: process.env.TANDEM_KEY! });
 * await tracking.trackLead({ clickId: req.cookies.tdm_click, customer: { externalId: user.id, email: user.email } });
 * await tracking.trackSale({ customer: { externalId: user.id }, amount: 4900, currency: 'USD', invoiceId: invoice.id });
 */
export function createTracking(options: TrackingOptions) {
  const client = createClient(options);
  const attempts = Math.max(1, options.attempts ?? 3);
  const baseDelay = options.retryDelayMs ?? 200;

  async function withRetries<T>(send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (attempt >= attempts || !retryable(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, baseDelay * 2 ** (attempt - 1)));
      }
    }
  }

  return {
    trackLead: (body: z.input<typeof trackLeadBody>): Promise<z.output<typeof trackLeadResponse>> =>
      withRetries(() => client.call('trackLead', { body })),
    trackSale: (body: z.input<typeof trackSaleBody>): Promise<z.output<typeof trackSaleResponse>> =>
      withRetries(() => client.call('trackSale', { body })),
    trackRefund: (body: z.input<typeof trackRefundBody>): Promise<z.output<typeof trackRefundResponse>> =>
      client.call('trackRefund', { body }),
  };
}
