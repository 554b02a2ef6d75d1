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
  const timeoutMs = input.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  return new Promise<SendOutcome>((resolve) => {
    // Only the first outcome counts (a promise settles once).
    const settle = (outcome: SendOutcome) => {
      clearTimeout(deadline);
      resolve(outcome);
    };
    const noResponse = `no response within ${timeoutMs} ms`;
    let statusCode: number | null = null;
    // A receiver that trickles bytes never goes idle: without a deadline for the whole attempt it
    // held a queue slot for as long as it liked (and, past the claim, the next attempt too).
    const deadline = setTimeout(() => {
      // An answer whose status arrived counts as that answer; the rest of its body is not waited for.
      settle(statusCode === null ? { statusCode: null, error: noResponse, durationMs: elapsed() } : { statusCode, error: null, durationMs: elapsed() });
      request.destroy(new Error(noResponse));
    }, timeoutMs);
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Tandem-Webhooks/1', 'content-length': Buffer.byteLength(input.body), ...input.headers },
        lookup: guardedLookup(input.allowPrivate),
        // Idle time between bytes; the deadline above bounds the whole attempt.
        timeout: timeoutMs,
        agent: false,
      },
      (response) => {
        statusCode = response.statusCode ?? null;
        response.resume();
        response.on('end', () => settle({ statusCode, error: null, durationMs: elapsed() }));
        response.on('error', (error) => settle({ statusCode, error: error.message, durationMs: elapsed() }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(noResponse)));
    request.on('error', (error) => {
      const message = error instanceof PrivateAddressError ? `refused: ${error.message}` : error.message || (error as NodeJS.ErrnoException).code || 'request failed';
      settle({ statusCode: null, error: message, durationMs: elapsed() });
    });
    request.end(input.body);
  });
}
