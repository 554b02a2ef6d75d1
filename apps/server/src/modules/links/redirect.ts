import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomFillSync } from 'node:crypto';
import {
  ClickIdGenerator,
  clickIdFromUuid,
  destinationWithClick,
  paidClickParams,
  RecentClicks,
  referrerHost,
  uuidFromClickId,
} from '@tandem/core';
import type { Services } from '../../http/context.js';
import { ClickBuffer, type ClickBufferOptions } from '../clicks/click-buffer.js';
import { countryFrom, UserAgentCache, VisitorHasher } from '../clicks/visitor.js';
import { LinkCache, type CachedLink, type LinkCacheOptions } from './link-cache.js';

export const CLICK_COOKIE = 'tdm_click';

const NOT_FOUND_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Link not found</title>
<style>body{font:16px/1.5 system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;color:#222}main{max-width:28rem;padding:1rem;text-align:center}</style>
</head><body><main><h1>This link does not exist</h1><p>It may have been mistyped, or the program that shared it has retired it.</p></main></body></html>`;

/** The redirect's moving parts, reachable for tests, metrics and the benchmark. */
export interface RedirectRuntime {
  cache: LinkCache;
  buffer: ClickBuffer;
  recent: RecentClicks;
  /** 302s served to counted visitors: new clicks plus reused ones. */
  counters: { newClicks: number; reusedClicks: number; uncounted: number; notFound: number };
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

/**
 * `GET /r/:key`, the hottest path of the product. A cached key is answered without any await:
 * link from memory, click id (UUIDv7, reused for the same visitor on the same link within the
 * hour), visitor facts from hashes and a parsed-once user agent, the click handed to the batch
 * writer. Only a cache miss or a full click buffer (back-pressure) makes a request wait.
 */
export async function registerRedirect(app: FastifyInstance, services: Services, options: RedirectOptions = {}): Promise<RedirectRuntime> {
  const cache = new LinkCache(services.pool, { log: services.log, ...options.cache });
  const buffer = new ClickBuffer(services.pool, { log: services.log, ...options.buffer });
  const recent = new RecentClicks();
  const clickIds = new ClickIdGenerator((bytes) => randomFillSync(bytes));
  const userAgents = new UserAgentCache();
  const hasher = new VisitorHasher(services.secret);
  const countryHeader = services.config.countryHeader;
  const secureCookie = services.config.publicUrl?.startsWith('https:') ? '; Secure' : '';
  const counters = { newClicks: 0, reusedClicks: 0, uncounted: 0, notFound: 0 };
  const runtime: RedirectRuntime = { cache, buffer, recent, counters };
  runtimes.set(app, runtime);

  app.addHook('onReady', async () => cache.start());
  // onClose runs after the server stopped accepting and in-flight requests finished: every click
  // served is in the buffer, and this writes it before the database goes away.
  app.addHook('onClose', async () => {
    await cache.stop();
    await buffer.close();
    services.log.info({ clicks: { ...buffer.stats(), ...counters } }, 'click buffer flushed');
  });

  function notFound(reply: FastifyReply): void {
    counters.notFound += 1;
    reply.code(404).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_FOUND_PAGE);
  }

  function redirect(reply: FastifyReply, link: CachedLink, clickId: string | null, paid: [string, string][]): void {
    reply
      .code(302)
      .header('location', destinationWithClick(link.destination, clickId, paid))
      .header('cache-control', 'private, no-store');
    if (clickId)
      reply.header(
        'set-cookie',
        `${CLICK_COOKIE}=${clickId}; Max-Age=${link.cookieMaxAgeSeconds}; Path=/; SameSite=Lax; HttpOnly${secureCookie}`,
      );
    reply.send();
  }

  function respond(req: FastifyRequest, reply: FastifyReply, link: CachedLink | null): void | Promise<FastifyReply> {
    if (!link) return notFound(reply);
    const paid = paidClickParams(req.query as Record<string, unknown>);
    const userAgent = req.headers['user-agent'];
    const facts = userAgents.facts(userAgent);
    // Bots and HEAD probes (link checkers, previews) are sent on but are not visitors.
    if (facts.isBot || req.method !== 'GET') {
      counters.uncounted += 1;
      return redirect(reply, link, null, paid);
    }
    const nowMs = services.now().getTime();
    const { ipHash, visitorHash } = hasher.hash(req.ip, userAgent!, nowMs);
    const cookieUuid = uuidFromCookie(req.cookies?.[CLICK_COOKIE]);
    if (cookieUuid && recent.isRecentClickOf(cookieUuid, link.linkId, nowMs)) {
      counters.reusedClicks += 1;
      return redirect(reply, link, clickIdFromUuid(cookieUuid), paid);
    }
    const { uuid, reused } = recent.claim(link.linkId, visitorHash, nowMs, () => clickIds.uuid(nowMs));
    if (reused) {
      counters.reusedClicks += 1;
      return redirect(reply, link, clickIdFromUuid(uuid), paid);
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
      country: countryHeader ? countryFrom(req.headers[countryHeader]) : null,
      device: facts.device,
      browser: facts.browser,
      os: facts.os,
      referrerHost: referrerHost(req.headers.referer),
      paidClickParam: paid[0]?.[0] ?? null,
    };
    if (buffer.hasRoom()) {
      buffer.push(row);
      return redirect(reply, link, clickIdFromUuid(uuid), paid);
    }
    return buffer.waitForRoom().then(() => {
      buffer.push(row);
      redirect(reply, link, clickIdFromUuid(uuid), paid);
      return reply;
    });
  }

  // Per-request logs would cost more than the redirect itself; only warnings and errors are logged here.
  app.get<{ Params: { key: string } }>('/r/:key', { logLevel: 'warn' }, (req, reply) => {
    const key = req.params.key;
    const cached = cache.peek(key);
    if (cached !== undefined) return respond(req, reply, cached);
    return cache.load(key).then((link) => respond(req, reply, link) ?? reply);
  });
  // Anything else under /r/ is not a link either (and must never be followed anywhere).
  app.get('/r/*', { logLevel: 'warn' }, (_req, reply) => notFound(reply));

  return runtime;
}

function uuidFromCookie(value: string | undefined): string | null {
  return value ? uuidFromClickId(value) : null;
}
