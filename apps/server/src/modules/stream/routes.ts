import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { endpoints, type StreamMessage } from '@tandem/contracts';
import type { Router } from '../../http/router.js';
import type { Auth, Services } from '../../http/context.js';
import { authStillValid } from '../../http/auth.js';
import { PARTNER_EVENT_TYPES, partnerView, pollFrom, sseFrame, startCursor, takeUnsent } from './cursor.js';

/** How often an open stream looks for new rows; a poll is a few index range scans. */
export const POLL_INTERVAL_MS = 1000;
const HEARTBEAT_MS = 15_000;
/** How often an open stream checks that its caller still may read it (key revoked, logged out, removed); tests shorten it. */
export const streamAuthRecheck = { ms: 10_000 };

/** Open streams per app, so closing the app ends them instead of waiting on them forever. */
const openStreams = new WeakMap<FastifyInstance, Set<() => void>>();

/** Ends every open stream of an app (called before the app closes). */
export function endOpenStreams(app: FastifyInstance): void {
  for (const end of openStreams.get(app) ?? []) end();
}

interface OutboxRow {
  id: string;
  type: string;
  data: Record<string, unknown>;
  occurred_at: Date;
}

interface StreamSource {
  /** Outbox rows after `after` (an event id), ordered by id. */
  events(after: string): Promise<OutboxRow[]>;
  /** How the stream shows a row to this caller. */
  view(row: OutboxRow): StreamMessage;
  /** New clicks since the last call (0 when the caller does not see clicks). */
  newClicks(): Promise<number>;
}

/**
 * Serves one text/event-stream connection: polls the source, sends what is new, resumes after the
 * client's Last-Event-ID, and ends when the client goes away, the app closes, or the database fails
 * (the browser's EventSource then reconnects and resumes).
 */
function serveStream(req: FastifyRequest, reply: FastifyReply, caller: { services: Services; auth: Auth }, lastEventId: string | undefined, source: StreamSource): void {
  const cursor = startCursor(Date.now(), lastEventId);
  const resumePoint = cursor.after;
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': req.id,
  });
  // Tells EventSource how long to wait before reconnecting after a drop.
  reply.raw.write('retry: 3000\n\n');

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
    reply.raw.end();
  };
  streams.add(end);
  req.raw.on('close', end);
  const send = (id: string | undefined, message: StreamMessage) => {
    reply.raw.write(sseFrame(id, message));
    lastWrite = Date.now();
  };

  const poll = async () => {
    if (closed) return;
    try {
      // Wall-clock time on purpose: event ids are made from the wall clock, not an injected one.
      const now = Date.now();
      // A revoked key, an ended session or a removed member stops receiving at the next check.
      if (now - lastAuthCheck >= streamAuthRecheck.ms) {
        lastAuthCheck = now;
        if (!(await authStillValid(caller.services, caller.auth))) return end();
      }
      const rows = await source.events(pollFrom(cursor, now));
      for (const row of takeUnsent(cursor, rows, now, resumePoint)) {
        if (closed) return;
        send(row.id, source.view(row));
      }
      const clicks = await source.newClicks();
      if (clicks > 0 && !closed)
        send(undefined, { type: 'clicks.recorded', data: { count: clicks }, occurredAt: new Date(now).toISOString() });
      if (!closed && Date.now() - lastWrite >= HEARTBEAT_MS) {
        reply.raw.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
    } catch (error) {
      req.log.warn({ err: error }, 'event stream poll failed');
      end();
      return;
    }
    if (!closed) timer = setTimeout(() => void poll(), POLL_INTERVAL_MS);
  };
  void poll();
}

const lastEventIdOf = (req: FastifyRequest, query: { lastEventId?: string | undefined }) =>
  (req.headers['last-event-id'] as string | undefined) ?? query.lastEventId;

export function streamRoutes(r: Router) {
  r.handle(endpoints.stream, async ({ auth, query, req, reply, services }) => {
    let lastClick = await latestClickId(services, auth.workspaceId);
    serveStream(req, reply, { services, auth }, lastEventIdOf(req, query), {
      events: async (after) =>
        (
          await services.pool.query<OutboxRow>(
            `select id, type, data, occurred_at from outbox_events where workspace_id = $1 and id > $2 order by id limit 200`,
            [auth.workspaceId, after],
          )
        ).rows,
      view: (row) => ({ type: row.type, data: row.data, occurredAt: row.occurred_at.toISOString() }),
      newClicks: async () => {
        const clicks = await clicksSince(services, auth.workspaceId, lastClick);
        lastClick = clicks.last;
        return clicks.count;
      },
    });
  });

  r.handle(endpoints.portalStream, async ({ auth, query, req, reply, services }) => {
    serveStream(req, reply, { services, auth }, lastEventIdOf(req, query), {
      // Only events about the partner records of this user, in every workspace it partners with.
      events: async (after) =>
        (
          await services.pool.query<OutboxRow>(
            `select o.id, o.type, o.data, o.occurred_at
               from partners p
               join outbox_events o on o.workspace_id = p.workspace_id and o.id > $2 and o.data->>'partnerId' = p.id
              where p.user_id = $1 and o.type = any($3)
              order by o.id limit 200`,
            [auth.userId, after, PARTNER_EVENT_TYPES],
          )
        ).rows,
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
