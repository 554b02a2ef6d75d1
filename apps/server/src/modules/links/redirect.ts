import type { FastifyInstance } from 'fastify';
import { randomFillSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import {
  CLICK_REUSE_MS,
  ClickIdGenerator,
  clickIdFromUuid,
  destinationWithClick,
  paidClickParams,
  RecentClicks,
  referrerHost,
  uuidFromClickId,
} from '@tandem/core';
import type { Services } from '../../http/context.js';
import { ClickBuffer, ClickBufferFull, type ClickBufferOptions } from '../clicks/click-buffer.js';
import { countryFrom, UserAgentCache, VisitorHasher } from '../clicks/visitor.js';
import { LinkCache, type CachedLink, type LinkCacheOptions } from './link-cache.js';

export const CLICK_COOKIE = 'tdm_click';
/** Everything under this path is the redirect's (see {@link RedirectRuntime.handle}). */
export const REDIRECT_PREFIX = '/r/';
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;
/** Longer keys are never links (custom keys are far shorter); same limit as Fastify's router. */
const MAX_KEY_LENGTH = 100;

const NOT_FOUND_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Link not found</title>
<style>body{font:16px/1.5 system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;color:#222}main{max-width:28rem;padding:1rem;text-align:center}</style>
</head><body><main><h1>This link does not exist</h1><p>It may have been mistyped, or the program that shared it has retired it.</p></main></body></html>`;
const NOT_FOUND_BODY = Buffer.from(NOT_FOUND_PAGE);
// Flat [name, value, …] arrays: node writes them without walking an object's keys.
const NOT_FOUND_HEADERS = [
  'content-type',
  'text/html; charset=utf-8',
  'cache-control',
  'no-store',
  'content-length',
  String(NOT_FOUND_BODY.length),
];
const UNAVAILABLE_HEADERS = ['content-type', 'text/plain; charset=utf-8', 'cache-control', 'no-store', 'retry-after', '1'];

/**
 * What the redirect reads from a request, whichever HTTP layer parsed it: node's (`handle`) or the
 * redirect's own connection handler (`redirect-connection.ts`).
 */
export interface RedirectRequest {
  method: string;
  /** The request target as sent: `/r/<key>` with an optional `?query`. */
  url: string;
  userAgent: string | undefined;
  /** The Cookie header (several joined with `; `, as node joins them). */
  cookie: string | undefined;
  referer: string | undefined;
  /** X-Forwarded-For (several joined with `, `). */
  forwardedFor: string | undefined;
  /** The value of the configured trusted country header, when there is one. */
  country: string | undefined;
  /** The socket's peer address. */
  remoteAddress: string | undefined;
}

/** Sends one whole response: a status, flat `[name, value, …]` headers and an optional body (never for HEAD). */
export type SendResponse = (status: number, headers: readonly string[], body?: Buffer | string) => void;

/** The redirect's moving parts, reachable for tests, metrics and the benchmark. */
export interface RedirectRuntime {
  cache: LinkCache;
  buffer: ClickBuffer;
  recent: RecentClicks;
  /** 302s served to counted visitors: new clicks plus reused ones. */
  counters: { newClicks: number; reusedClicks: number; uncounted: number; notFound: number };
  /**
   * Answers a GET or HEAD under `/r/` on node's own request and response objects. `buildApp` puts it
   * in front of Fastify on the listening server (so a redirect skips routing, hooks and the reply
   * object); the Fastify route `/r/*` calls the same function, which is what `inject` reaches.
   */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The redirect itself, for any HTTP layer: answers `request` through `send`, at once or after a wait. */
  answer(request: RedirectRequest, send: SendResponse): void;
}

export interface RedirectOptions {
  cache?: LinkCacheOptions;
  buffer?: ClickBufferOptions;
}

const runtimes = new WeakMap<FastifyInstance, RedirectRuntime>();

export function redirectRuntimeOf(app: FastifyInstance): RedirectRuntime {
  const runtime = runtimes.get(app);
  if (!runtime) throw new Error('registerRedirect() was not called on this app');
  return runtime;
}

/** Whether a raw request is the redirect's: the front handler's one test before Fastify. */
export function isRedirectRequest(req: IncomingMessage): boolean {
  return req.url!.startsWith(REDIRECT_PREFIX) && (req.method === 'GET' || req.method === 'HEAD');
}

/**
 * `GET /r/:key`, the hottest path of the product. A cached key is answered without any await:
 * link from memory, click id (UUIDv7, reused for the same visitor on the same link within the
 * hour), visitor facts from hashes and a parsed-once user agent, the click handed to the batch
 * writer. Only a cache miss or a full click buffer (back-pressure) makes a request wait.
 *
 * It works on node's raw request and response, not Fastify's: at ~50k redirects/s per core the
 * framework's routing, hooks, cookie parsing and reply object were a third of the CPU per redirect
 * (docs/decisions/0006-redirect-hot-path.md).
 */
export async function registerRedirect(app: FastifyInstance, services: Services, options: RedirectOptions = {}): Promise<RedirectRuntime> {
  const cache = new LinkCache(services.pool, { log: services.log, ...options.cache });
  const buffer = new ClickBuffer(services.pool, { log: services.log, ...options.buffer });
  const recent = new RecentClicks();
  const clickIds = new ClickIdGenerator((bytes) => randomFillSync(bytes));
  const userAgents = new UserAgentCache();
  const hasher = new VisitorHasher(services.secret);
  const countryHeader = services.config.countryHeader;
  const trustProxy = services.config.trustProxy;
  const cookieAttributes = `; Path=/; SameSite=Lax; HttpOnly${services.config.publicUrl?.startsWith('https:') ? '; Secure' : ''}`;
  const counters = { newClicks: 0, reusedClicks: 0, uncounted: 0, notFound: 0 };

  app.addHook('onReady', async () => cache.start());
  // onClose runs after the server stopped accepting and in-flight requests finished: every click
  // served is in the buffer, and this writes it before the database goes away.
  app.addHook('onClose', async () => {
    await cache.stop();
    await buffer.close();
    services.log.info({ clicks: { ...buffer.stats(), ...counters } }, 'click buffer flushed');
  });

  function notFound(request: RedirectRequest, send: SendResponse): void {
    counters.notFound += 1;
    send(404, NOT_FOUND_HEADERS, request.method === 'HEAD' ? undefined : NOT_FOUND_BODY);
  }

  function unavailable(send: SendResponse, error: unknown): void {
    // A full click buffer: the batch writer logs why the database takes no clicks; a line per waiting visitor would bury it.
    if (!(error instanceof ClickBufferFull)) services.log.error({ err: error }, 'redirect failed');
    send(503, UNAVAILABLE_HEADERS, 'The link service is briefly unavailable; please retry.');
  }

  function redirect(send: SendResponse, link: CachedLink, clickId: string | null, paid: [string, string][]): void {
    const location = destinationWithClick(link.destination, clickId, paid);
    send(
      302,
      clickId
        ? [
            'location',
            location,
            'cache-control',
            'private, no-store',
            'set-cookie',
            `${CLICK_COOKIE}=${clickId}; Max-Age=${link.cookieMaxAgeSeconds}${cookieAttributes}`,
            'content-length',
            '0',
          ]
        : ['location', location, 'cache-control', 'private, no-store', 'content-length', '0'],
    );
  }

  function respond(request: RedirectRequest, send: SendResponse, link: CachedLink | null, queryAt: number): void {
    if (!link) return notFound(request, send);
    // Only a URL with a query can carry ad click ids: most redirects skip query parsing.
    const paid = queryAt < 0 ? [] : paidClickParams(parseQuery(request.url.slice(queryAt + 1)));
    const userAgent = request.userAgent;
    const facts = userAgents.facts(userAgent);
    // Bots and HEAD probes (link checkers, previews) are sent on but are not visitors.
    if (facts.isBot || request.method !== 'GET') {
      counters.uncounted += 1;
      return redirect(send, link, null, paid);
    }
    const nowMs = services.now().getTime();
    const cookieUuid = request.cookie === undefined ? null : clickUuidFromCookieHeader(request.cookie);
    if (cookieUuid && recent.isRecentClickOf(cookieUuid, link.linkId, nowMs)) {
      counters.reusedClicks += 1;
      return redirect(send, link, clickIdFromUuid(cookieUuid), paid);
    }
    // Hashed only when the cookie did not already say which click this is.
    const ip = clientIp(request, trustProxy);
    const { ipHash, visitorHash } = hasher.hash(ip, facts.tag, nowMs);
    // The key of visitor hashes changes at UTC midnight: in the first hour of a day, a visitor's
    // click from the end of the previous one is found under the previous day's hash.
    if (hasher.sinceDayStart(nowMs) < CLICK_REUSE_MS) {
      const earlier = recent.findByVisitor(link.linkId, hasher.previousDayVisitorHash(ip, facts.tag, nowMs), nowMs);
      if (earlier) {
        counters.reusedClicks += 1;
        return redirect(send, link, clickIdFromUuid(earlier), paid);
      }
    }
    const { uuid, reused } = recent.claim(link.linkId, visitorHash, nowMs, () => clickIds.uuid(nowMs));
    if (reused) {
      counters.reusedClicks += 1;
      return redirect(send, link, clickIdFromUuid(uuid), paid);
    }
    counters.newClicks += 1;
    const row = {
      workspaceId: link.workspaceId,
      uuid,
      linkId: link.linkId,
      programId: link.programId,
      partnerId: link.partnerId,
      atMs: nowMs,
      visitorHash,
      ipHash,
      country: countryHeader ? countryFrom(request.country) : null,
      device: facts.device,
      browser: facts.browser,
      os: facts.os,
      referrerHost: referrerHost(request.referer),
      paidClickParam: paid[0]?.[0] ?? null,
    };
    if (buffer.hasRoom()) {
      buffer.push(row);
      return redirect(send, link, clickIdFromUuid(uuid), paid);
    }
    buffer
      .waitForRoom()
      .then(() => {
        buffer.push(row);
        redirect(send, link, clickIdFromUuid(uuid), paid);
      })
      .catch((error: unknown) => unavailable(send, error));
  }

  function answer(request: RedirectRequest, send: SendResponse): void {
    try {
      const url = request.url;
      const queryAt = url.indexOf('?', REDIRECT_PREFIX.length);
      let key = url.slice(REDIRECT_PREFIX.length, queryAt < 0 ? undefined : queryAt);
      // `/r/`, `/r/a/b` and over-long keys are not links (and must never be followed anywhere).
      if (key.length === 0 || key.length > MAX_KEY_LENGTH || key.includes('/')) return notFound(request, send);
      if (key.includes('%')) {
        try {
          key = decodeURIComponent(key);
        } catch {
          return notFound(request, send);
        }
        // No key holds a control character, and PostgreSQL refuses NUL in text: `/r/%00` looked up
        // on every request (never cached) and answered 503.
        if (CONTROL_CHARACTER.test(key)) return notFound(request, send);
      }
      const cached = cache.peek(key);
      if (cached !== undefined) return respond(request, send, cached, queryAt);
      cache
        .load(key)
        .then((link) => respond(request, send, link, queryAt))
        .catch((error: unknown) => unavailable(send, error));
    } catch (error) {
      // A throw here would otherwise escape the socket's event handler and end the process.
      unavailable(send, error);
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const headers = req.headers;
    const country = countryHeader ? headers[countryHeader] : undefined;
    const forwardedFor = headers['x-forwarded-for'];
    answer(
      {
        method: req.method!,
        url: req.url!,
        userAgent: headers['user-agent'],
        cookie: headers.cookie,
        referer: headers.referer,
        forwardedFor: Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor,
        country: Array.isArray(country) ? country[0] : country,
        remoteAddress: req.socket.remoteAddress,
      },
      (status, responseHeaders, body) => {
        // A response already under way cannot become another one: cut the connection instead.
        if (res.headersSent) return void res.destroy();
        res.writeHead(status, responseHeaders as string[]);
        res.end(body);
      },
    );
  }

  const runtime: RedirectRuntime = { cache, buffer, recent, counters, handle, answer };
  runtimes.set(app, runtime);

  // The listening server answers /r/ before Fastify sees it (buildApp's serverFactory); this route
  // serves `app.inject` and an app built without that front handler, through the same function.
  // Per-request logs would cost more than the redirect itself; only warnings and errors are logged.
  app.get('/r/*', { logLevel: 'warn' }, (req, reply) => {
    reply.hijack();
    handle(req.raw, reply.raw);
  });

  return runtime;
}

/**
 * The visitor's address: the first X-Forwarded-For entry when the proxy is trusted (as Fastify's
 * `trustProxy: true` reads it), else the socket's peer.
 */
function clientIp(request: RedirectRequest, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.forwardedFor;
    if (forwarded) {
      const comma = forwarded.indexOf(',');
      return (comma < 0 ? forwarded : forwarded.slice(0, comma)).trim();
    }
  }
  return request.remoteAddress ?? '';
}

/**
 * The click uuid in a Cookie header's `tdm_click`, or null. Only this one cookie is looked for
 * (no parsing of the rest of the header), and only at a cookie boundary (`xtdm_click=` is not it).
 */
export function clickUuidFromCookieHeader(header: string): string | null {
  const name = `${CLICK_COOKIE}=`;
  for (let at = header.indexOf(name); at >= 0; at = header.indexOf(name, at + 1)) {
    if (at > 0 && header[at - 1] !== ' ' && header[at - 1] !== ';') continue;
    const start = at + name.length;
    const end = header.indexOf(';', start);
    return uuidFromClickId((end < 0 ? header.slice(start) : header.slice(start, end)).trim());
  }
  return null;
}
