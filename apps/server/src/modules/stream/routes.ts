import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, endpoints, type StreamMessage } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import type { Auth, Services } from '../../http/context.js';
import { authStillValid } from '../../http/auth.js';
import {
  openingPosition,
  PARTNER_EVENT_TYPES,
  partnerView,
  positionAfter,
  sendableAfter,
  sseFrame,
  STREAM_PAGE_SIZE,
  streamOrder,
  type StreamPosition,
} from './cursor.js';
import { StreamSlots } from './stream-slots.js';

/** How often an open stream looks for new rows; a poll is a few index range scans. */
export const POLL_INTERVAL_MS = 1000;
const HEARTBEAT_MS = 15_000;
/** How long a stream waits for a client that does not read before cutting it off (tests shorten it). */
export const streamDrainDeadline = { ms: 30_000 };
/** How often an open stream checks that its caller still may read it (key revoked, logged out, removed); tests shorten it. */
export const streamAuthRecheck = { ms: 10_000 };

/** Open streams per app, so closing the app ends them instead of waiting on them forever. */
const openStreams = new WeakMap<FastifyInstance, Set<() => void>>();
/** Each app's count of open streams per caller (the limit is `config.streamsPerCaller`). */
const slotsOfApp = new WeakMap<FastifyInstance, StreamSlots>();

/** Ends every open stream of an app (called before the app closes). */
export function endOpenStreams(app: FastifyInstance): void {
  for (const end of openStreams.get(app) ?? []) end();
}

interface OutboxRow {
  id: string;
  type: string;
  data: Record<string, unknown>;
  occurred_at: Date;
  /** The writing transaction's id (xid8 as text), the first key of the stream order. */
  xact_id: string;
}

interface StreamSource {
  /** The position after this event, when it is one the caller may see; a client resumes there. */
  positionOf(eventId: string): Promise<{ xact_id: string; id: string } | undefined>;
  /** The next page of outbox rows after `position` that may be sent (cursor.ts), in stream order. */
  events(position: StreamPosition): Promise<OutboxRow[]>;
  /** How the stream shows a row to this caller. */
  view(row: OutboxRow): StreamMessage;
  /** New clicks since the last call (0 when the caller does not see clicks). */
  newClicks(): Promise<number>;
}

/** Whose streams count together: one API key, or one person (every tab and workspace of theirs). */
const callerKey = (auth: Auth) => (auth.kind === 'api_key' ? `key:${auth.keyId}` : `user:${auth.userId}`);

function claimStreamSlot(req: FastifyRequest, services: Services, auth: Auth): () => void {
  let slots = slotsOfApp.get(req.server);
  if (!slots) slotsOfApp.set(req.server, (slots = new StreamSlots(services.config.streamsPerCaller)));
  const release = slots.claim(callerKey(auth));
  if (!release) {
    const who = auth.kind === 'api_key' ? 'API key' : 'user';
    throw new ApiError('rate_limited', `Too many open event streams for this ${who} (at most ${services.config.streamsPerCaller}); close one, then retry in 1s`);
  }
  return release;
}

async function startingPosition(services: Services, source: StreamSource, lastEventId: string | undefined): Promise<StreamPosition> {
  const resumed = lastEventId ? await source.positionOf(lastEventId) : undefined;
  if (resumed) return positionAfter(null, resumed);
  const { rows } = await services.pool.query<{ snapshot: string }>('select pg_current_snapshot()::text as snapshot');
  return openingPosition(rows[0]!.snapshot);
}

/**
 * Serves one text/event-stream connection: polls the source, sends what is new, resumes after the
 * client's Last-Event-ID, and ends when the client goes away, the app closes, or the database fails
 * (the browser's EventSource then reconnects and resumes).
 */
async function serveStream(req: FastifyRequest, reply: FastifyReply, caller: { services: Services; auth: Auth }, lastEventId: string | undefined, source: StreamSource): Promise<void> {
  const releaseSlot = claimStreamSlot(req, caller.services, caller.auth);
  let position: StreamPosition;
  try {
    position = await startingPosition(caller.services, source, lastEventId);
  } catch (error) {
    releaseSlot();
    throw error;
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': req.id,
  });

  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastWrite = Date.now();
  let lastAuthCheck = Date.now();
  const streams = openStreams.get(req.server) ?? new Set();
  openStreams.set(req.server, streams);
  const end = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    streams.delete(end);
    releaseSlot();
    // A client that stopped reading would hold a graceful end (and the app's close) until it read
    // everything still buffered; it resumes from its Last-Event-ID instead.
    if (res.writableNeedDrain) res.destroy();
    else res.end();
  };
  streams.add(end);
  req.raw.on('close', end);
  res.on('close', end);
  // A client that went away during the awaits above (auth, its starting position) closed before
  // these listeners existed: nothing would ever end its stream, which kept its slot and was polled
  // every second until the app closed.
  if (res.destroyed || req.raw.socket.destroyed) return end();

  /**
   * Resolves once the client has taken what was buffered, or the stream is gone. A client that
   * stays connected but reads nothing for {@link streamDrainDeadline} is cut off (it resumes from its
   * Last-Event-ID when it reconnects): it would otherwise hold its slot, unchecked, for ever.
   */
  const drained = () =>
    new Promise<void>((resolve) => {
      if (closed || res.destroyed) return resolve();
      const deadline = setTimeout(() => {
        res.destroy();
        done();
      }, streamDrainDeadline.ms);
      const done = () => {
        clearTimeout(deadline);
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  // Back-pressure: a slow reader makes write() return false; the stream then waits for it rather
  // than reading more rows into the socket's buffer, which would otherwise grow without bound.
  const write = async (chunk: string) => {
    if (!res.write(chunk)) await drained();
    lastWrite = Date.now();
  };

  // A revoked key, an ended session or a removed member stops receiving at the next check.
  const callerStillAllowed = async () => {
    if (Date.now() - lastAuthCheck < streamAuthRecheck.ms) return true;
    lastAuthCheck = Date.now();
    return authStillValid(caller.services, caller.auth);
  };

  const poll = async () => {
    if (closed) return;
    try {
      // A burst larger than a page is sent page after page now, not one page per poll interval.
      for (;;) {
        if (!(await callerStillAllowed())) return end();
        const rows = await source.events(position);
        for (const row of rows) {
          if (closed) return;
          position = positionAfter(position, row);
          await write(sseFrame(row.id, source.view(row)));
        }
        if (closed || rows.length < STREAM_PAGE_SIZE) break;
      }
      const clicks = await source.newClicks();
      if (clicks > 0 && !closed)
        await write(sseFrame(undefined, { type: 'clicks.recorded', data: { count: clicks }, occurredAt: new Date().toISOString() }));
      if (!closed && Date.now() - lastWrite >= HEARTBEAT_MS) await write(': keep-alive\n\n');
    } catch (error) {
      req.log.warn({ err: error }, 'event stream poll failed');
      end();
      return;
    }
    if (!closed) timer = setTimeout(() => void poll(), POLL_INTERVAL_MS);
  };
  // Tells EventSource how long to wait before reconnecting after a drop.
  await write('retry: 3000\n\n');
  void poll();
}

const lastEventIdOf = (req: FastifyRequest, query: { lastEventId?: string | undefined }) =>
  (req.headers['last-event-id'] as string | undefined) ?? query.lastEventId;

export function streamRoutes(r: Router) {
  r.handle(endpoints.stream, async ({ auth, query, req, reply, services }) => {
    let lastClick = await latestClickId(services, auth.workspaceId);
    await serveStream(req, reply, { services, auth }, lastEventIdOf(req, query), {
      positionOf: async (eventId) =>
        (
          await services.pool.query<{ xact_id: string; id: string }>(
            'select xact_id::text as xact_id, id from outbox_events where workspace_id = $1 and id = $2',
            [auth.workspaceId, eventId],
          )
        ).rows[0],
      events: async (position) => {
        const sendable = sendableAfter('o', position, 2);
        return (
          await services.pool.query<OutboxRow>(
            `select o.id, o.type, o.data, o.occurred_at, o.xact_id::text as xact_id
               from outbox_events o
              where o.workspace_id = $1 and ${sendable.sql}
              ${streamOrder('o')}`,
            [auth.workspaceId, ...sendable.params],
          )
        ).rows;
      },
      view: (row) => ({ type: row.type, data: row.data, occurredAt: row.occurred_at.toISOString() }),
      newClicks: async () => {
        const clicks = await clicksSince(services, auth.workspaceId, lastClick);
        lastClick = clicks.last;
        return clicks.count;
      },
    });
  });

  r.handle(endpoints.portalStream, async ({ auth, query, req, reply, services }) => {
    await serveStream(req, reply, { services, auth }, lastEventIdOf(req, query), {
      positionOf: async (eventId) =>
        (
          await services.pool.query<{ xact_id: string; id: string }>(
            `select o.xact_id::text as xact_id, o.id
               from partners p
               join outbox_events o on o.workspace_id = p.workspace_id and o.id = $2 and o.data->>'partnerId' = p.id
              where p.user_id = $1
              limit 1`,
            [auth.userId, eventId],
          )
        ).rows[0],
      // Only events about the partner records of this user, in every workspace it partners with.
      events: async (position) => {
        const sendable = sendableAfter('o', position, 3);
        return (
          await services.pool.query<OutboxRow>(
            `select o.id, o.type, o.data, o.occurred_at, o.xact_id::text as xact_id
               from partners p
               join outbox_events o on o.workspace_id = p.workspace_id and o.data->>'partnerId' = p.id
              where p.user_id = $1 and o.type = any($2) and ${sendable.sql}
              ${streamOrder('o')}`,
            [auth.userId, PARTNER_EVENT_TYPES, ...sendable.params],
          )
        ).rows;
      },
      view: (row) => partnerView(row.type, row.data, row.occurred_at),
      newClicks: async () => 0,
    });
  });
}

async function latestClickId(services: Services, workspaceId: string): Promise<string | null> {
  const { rows } = await services.pool.query<{ id: string }>('select id from clicks where workspace_id = $1 order by id desc limit 1', [
    workspaceId,
  ]);
  return rows[0]?.id ?? null;
}

/** Clicks written since the last one seen (UUIDv7 ids sort by time). Capped: it is a nudge, not a count. */
async function clicksSince(services: Services, workspaceId: string, after: string | null): Promise<{ count: number; last: string | null }> {
  const { rows } = await services.pool.query<{ count: number; last: string | null }>(
    `select count(*)::int as count, max(id::text) as last
       from (select id from clicks where workspace_id = $1 and ($2::uuid is null or id > $2::uuid) order by id limit 10000) recent`,
    [workspaceId, after],
  );
  return { count: rows[0]?.count ?? 0, last: rows[0]?.last ?? after };
}
