import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decryptValue, encryptValue } from '../../security/encryption.js';
import { guardedLookup, isPrivateAddress, urlRefusal } from './address-guard.js';
import { JITTER, MAX_DELIVERY_ATTEMPTS, nextAttemptAt, RETRY_DELAYS_SECONDS } from './retry-schedule.js';
import { sendWebhookRequest } from './send-request.js';
import { newWebhookSecret, secretBytes, signWebhook } from './signature.js';

describe('Standard Webhooks signature', () => {
  it('matches the test vector of the Standard Webhooks reference libraries', () => {
    const signature = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('makes secrets of 32 random bytes behind whsec_', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(secretBytes(secret)).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
  });

  it('refuses a secret without the prefix', () => {
    expect(() => secretBytes('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toThrow(/whsec_/);
  });
});

describe('retry schedule', () => {
  it('spans about a day and stops after the last attempt', () => {
    const total = RETRY_DELAYS_SECONDS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(24 * 3600);
    expect(total).toBeLessThan(30 * 3600);
    const now = new Date('2026-01-01T00:00:00Z');
    expect(nextAttemptAt(MAX_DELIVERY_ATTEMPTS - 1, now, () => 0.5)).not.toBeNull();
    expect(nextAttemptAt(MAX_DELIVERY_ATTEMPTS, now, () => 0.5)).toBeNull();
  });

  it('grows with every failure and keeps the jitter within ±20 %', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: RETRY_DELAYS_SECONDS.length }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (failures, r) => {
        const now = new Date('2026-01-01T00:00:00Z');
        const delayMs = nextAttemptAt(failures, now, () => r)!.getTime() - now.getTime();
        const base = RETRY_DELAYS_SECONDS[failures - 1]! * 1000;
        expect(delayMs).toBeGreaterThanOrEqual(Math.floor(base * (1 - JITTER)));
        expect(delayMs).toBeLessThanOrEqual(Math.ceil(base * (1 + JITTER)));
        if (failures > 1) expect(base).toBeGreaterThan(RETRY_DELAYS_SECONDS[failures - 2]! * 1000 - 1);
      }),
    );
  });
});

describe('SSRF guard', () => {
  it.each([
    ['127.0.0.1', true], ['10.20.30.40', true], ['172.16.0.1', true], ['172.31.255.255', true], ['192.168.1.1', true],
    ['169.254.169.254', true], ['100.64.0.1', true], ['0.0.0.0', true], ['224.0.0.1', true], ['255.255.255.255', true],
    ['::1', true], ['::', true], ['fd00::1', true], ['fe80::1', true], ['::ffff:127.0.0.1', true], ['::ffff:10.0.0.1', true],
    ['8.8.8.8', false], ['172.32.0.1', false], ['93.184.216.34', false], ['2606:4700:4700::1111', false], ['::ffff:8.8.8.8', false],
    // IPv6 forms that carry an IPv4 address (NAT64, 6to4, IPv4-compatible, translated) and site-local.
    ['64:ff9b::10.0.0.1', true], ['64:ff9b::a9fe:a9fe', true], ['64:ff9b::8.8.8.8', false], ['64:ff9b:1::1', true], ['::10.0.0.1', true],
    ['2002:a00:1::1', true], ['2002:808:808::1', false], ['::ffff:0:10.0.0.1', true], ['fec0::1', true],
  ])('%s is private: %s', (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });

  it('refuses non-http URLs, credentials and private hosts unless allowed', () => {
    expect(urlRefusal('ftp://example.com/x', false)).toMatch(/http/);
    expect(urlRefusal('https://user:pw@example.com/x', false)).toMatch(/credentials/);
    expect(urlRefusal('http://localhost:8080/x', false)).toMatch(/private/);
    expect(urlRefusal('http://[::1]:8080/x', false)).toMatch(/private/);
    expect(urlRefusal('http://169.254.169.254/latest', false)).toMatch(/private/);
    expect(urlRefusal('https://hooks.example.com/x', false)).toBeNull();
    expect(urlRefusal('http://127.0.0.1:8080/x', true)).toBeNull();
    expect(urlRefusal('ftp://127.0.0.1/x', true)).toMatch(/http/);
  });

  it('refuses a hostname that resolves to a private address at connection time (DNS rebinding)', async () => {
    const resolvesPrivately = (_host: string, _o: { all: true }, cb: (e: NodeJS.ErrnoException | null, a: { address: string; family: number }[]) => void) =>
      cb(null, [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }]);
    const lookup = guardedLookup(false, resolvesPrivately);
    const result = await new Promise<{ err: Error | null; address: unknown }>((resolve) => lookup('rebind.example', {}, (err, address) => resolve({ err, address })));
    expect(result.err?.message).toMatch(/private address 10\.0\.0\.7/);
    const allowed = guardedLookup(true, resolvesPrivately);
    const ok = await new Promise<{ err: Error | null; address: unknown }>((resolve) => allowed('rebind.example', {}, (err, address) => resolve({ err, address })));
    expect(ok).toEqual({ err: null, address: '93.184.216.34' });
  });
});

describe('sendWebhookRequest', () => {
  async function receiver(handler: http.RequestListener): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
    let hits = 0;
    const server = http.createServer((req, res) => {
      hits += 1;
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/hook`, hits: () => hits, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
  }

  it('refuses loopback without the operator setting, by literal address and by hostname', async () => {
    const target = await receiver((_req, res) => res.end('ok'));
    try {
      const literal = await sendWebhookRequest({ url: target.url, headers: {}, body: '{}', allowPrivate: false });
      expect(literal).toMatchObject({ statusCode: null, error: expect.stringMatching(/refused/) });
      const byName = await sendWebhookRequest({ url: target.url.replace('127.0.0.1', 'localhost'), headers: {}, body: '{}', allowPrivate: false });
      expect(byName).toMatchObject({ statusCode: null, error: expect.stringMatching(/refused/) });
      expect(target.hits()).toBe(0);
      const allowed = await sendWebhookRequest({ url: target.url, headers: {}, body: '{}', allowPrivate: true });
      expect(allowed).toMatchObject({ statusCode: 200, error: null });
      expect(target.hits()).toBe(1);
    } finally {
      await target.close();
    }
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const target = await receiver(() => undefined);
    try {
      const outcome = await sendWebhookRequest({ url: target.url, headers: {}, body: '{}', allowPrivate: true, timeoutMs: 200 });
      expect(outcome).toMatchObject({ statusCode: null, error: expect.stringMatching(/no response within 200 ms/) });
    } finally {
      await target.close();
    }
  });

  it('bounds the whole attempt: a receiver trickling its answer byte by byte is cut off at the deadline', async () => {
    // 200 at once, then one byte every 50 ms for ever: never idle long enough for the idle timeout.
    const trickle = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    });
    // Headers sent a byte at a time: no status ever arrives.
    const slowHead = await receiver((req) => {
      const socket = req.socket;
      const timer = setInterval(() => socket.write('X'), 50);
      socket.on('close', () => clearInterval(timer));
    });
    try {
      const started = Date.now();
      expect(await sendWebhookRequest({ url: trickle.url, headers: {}, body: '{}', allowPrivate: true, timeoutMs: 300 })).toMatchObject({ statusCode: 200, error: null });
      expect(await sendWebhookRequest({ url: slowHead.url, headers: {}, body: '{}', allowPrivate: true, timeoutMs: 300 })).toMatchObject({ statusCode: null });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await trickle.close();
      await slowHead.close();
    }
  });

  it('reports a refused connection as an outcome, not an exception', async () => {
    const target = await receiver((_req, res) => res.end());
    const url = target.url;
    await target.close();
    const outcome = await sendWebhookRequest({ url, headers: {}, body: '{}', allowPrivate: true });
    expect(outcome.statusCode).toBeNull();
    expect(outcome.error).toMatch(/ECONNREFUSED/);
  });
});

describe('encryption at rest', () => {
  const secret = 'instance-secret-0123456789abcdef0123456789';

  it('round-trips and never stores the plaintext', () => {
    const stored = encryptValue(secret, 'webhook-secret', 'whsec_abc');
    expect(stored).not.toContain('whsec_abc');
    expect(stored).not.toBe(encryptValue(secret, 'webhook-secret', 'whsec_abc'));
    expect(decryptValue(secret, 'webhook-secret', stored)).toBe('whsec_abc');
  });

  it('refuses a tampered value, another purpose and another instance secret', () => {
    const stored = encryptValue(secret, 'webhook-secret', 'whsec_abc');
    const parts = stored.split('.');
    const body = Buffer.from(parts[2]!, 'base64url');
    body[0] = body[0]! ^ 1;
    const tampered = [parts[0], parts[1], body.toString('base64url'), parts[3]].join('.');
    expect(() => decryptValue(secret, 'webhook-secret', tampered)).toThrow();
    expect(() => decryptValue(secret, 'identifier', stored)).toThrow();
    expect(() => decryptValue(secret + 'x', 'webhook-secret', stored)).toThrow();
    expect(() => decryptValue(secret, 'webhook-secret', 'plain')).toThrow(/known version/);
  });
});
