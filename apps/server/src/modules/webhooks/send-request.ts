import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { guardedLookup, isPrivateAddress, PrivateAddressError } from './address-guard.js';

export const DELIVERY_TIMEOUT_MS = 10_000;

export interface SendOutcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * POSTs one webhook body. Never throws: a refused address, a timeout or a dropped connection is an
 * outcome with an error and no status code, logged like any other failed attempt. The response body
 * is read and discarded (receivers answer with whatever they like; we only keep the status).
 */
export async function sendWebhookRequest(input: {
  url: string;
  headers: Record<string, string>;
  body: string;
  allowPrivate: boolean;
  timeoutMs?: number;
}): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(input.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // Literal addresses never reach `lookup`, so they are judged here.
  if (!input.allowPrivate && net.isIP(host) && isPrivateAddress(host)) {
    return { statusCode: null, error: `refused: ${host} is a private address`, durationMs: elapsed() };
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendOutcome>((resolve) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Tandem-Webhooks/1', 'content-length': Buffer.byteLength(input.body), ...input.headers },
        lookup: guardedLookup(input.allowPrivate),
        timeout: input.timeoutMs ?? DELIVERY_TIMEOUT_MS,
        agent: false,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ statusCode: response.statusCode ?? null, error: null, durationMs: elapsed() }));
        response.on('error', (error) => resolve({ statusCode: response.statusCode ?? null, error: error.message, durationMs: elapsed() }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no response within ${input.timeoutMs ?? DELIVERY_TIMEOUT_MS} ms`)));
    request.on('error', (error) => {
      const message = error instanceof PrivateAddressError ? `refused: ${error.message}` : error.message || (error as NodeJS.ErrnoException).code || 'request failed';
      resolve({ statusCode: null, error: message, durationMs: elapsed() });
    });
    request.end(input.body);
  });
}
