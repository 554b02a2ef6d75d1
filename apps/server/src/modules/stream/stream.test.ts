import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { newId, uuidv7 } from '@tandem/core';
import pg from 'pg';
import { asKey, createTestContext, signupActor, type TestContext } from '../../test/harness.js';
import { withTransaction } from '../../db/tx.js';
import { emitEvent } from '../events/emit.js';
import { openingPosition, partnerView, positionAfter, sseFrame, STREAM_PAGE_SIZE } from './cursor.js';
import { streamAuthRecheck, streamDrainDeadline } from './routes.js';
import { StreamSlots } from './stream-slots.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stream cursor (pure)', () => {
  it("opens after the opening snapshot's horizon and keeps that snapshot while it advances", () => {
    const opened = openingPosition('1000:1004:1001,1003');
    expect(opened).toEqual({ xactId: '1000', id: '', openedAt: '1000:1004:1001,1003' });
    expect(positionAfter(opened, { xact_id: '1003', id: 'evt_b' })).toEqual({ xactId: '1003', id: 'evt_b', openedAt: '1000:1004:1001,1003' });
    expect(positionAfter(null, { xact_id: '7', id: 'evt_a' })).toEqual({ xactId: '7', id: 'evt_a', openedAt: null });
    expect(() => openingPosition('nonsense')).toThrow();
  });

  it('gives each caller a bounded number of stream slots, freed once each', () => {
    const slots = new StreamSlots(2);
    const first = slots.claim('key:a');
    const second = slots.claim('key:a');
    expect(first && second).toBeTruthy();
    expect(slots.claim('key:a')).toBeUndefined();
    expect(slots.claim('user:b')).toBeDefined();
    first!();
    first!();
    expect(slots.claim('key:a')).toBeDefined();
    expect(slots.claim('key:a')).toBeUndefined();
  });

  it("shows a partner only its own ids, amounts and statuses, never the brand's customer data", () => {
    const at = new Date('2026-11-21T06:00:00Z');
    expect(
      partnerView(
        'commission.created',
        { id: 'com_1', partnerId: 'ptn_1', amount: 500, currency: 'USD', status: 'pending', customerId: 'cus_9', saleId: 'sal_9' },
        at,
      ),
    ).toEqual({
      type: 'commission.created',
      data: { id: 'com_1', partnerId: 'ptn_1', amount: 500, currency: 'USD', status: 'pending' },
      occurredAt: '2026-11-21T06:00:00.000Z',
    });
  });

  it('frames a message as one SSE event', () => {
    expect(sseFrame('evt_1', { a: 'x\ny' })).toBe('id: evt_1\ndata: {"a":"x\\ny"}\n\n');
    expect(sseFrame(undefined, { a: 1 })).toBe('data: {"a":1}\n\n');
  });
});

describe('GET /api/v1/stream', () => {
  let ctx: TestContext;
  let baseUrl: string;
  beforeAll(async () => {
    ctx = await createTestContext();
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const address = ctx.app.server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => ctx?.close());

  /** Opens a stream and collects its parsed messages until `done` says stop. */
  async function collect(
    headers: Record<string, string>,
    done: (messages: { id?: string; type: string; data: Record<string, unknown> }[]) => boolean,
    afterOpen?: () => Promise<void>,
    path = '/api/v1/stream',
  ) {
    const abort = new AbortController();
    const res = await fetch(`${baseUrl}${path}`, { headers, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const messages: { id?: string; type: string; data: Record<string, unknown> }[] = [];
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const deadline = Date.now() + 8000;
    await afterOpen?.();
    try {
      while (!done(messages) && Date.now() < deadline) {
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
        if (!chunk || chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const id = /^id: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data) messages.push({ id, ...(JSON.parse(data) as { type: string; data: Record<string, unknown> }) });
        }
      }
    } finally {
      abort.abort();
    }
    return messages;
  }

  const emit = (workspaceId: string, type: 'sale.created' | 'commission.created' | 'payout.paid', data: Record<string, unknown>) =>
    withTransaction(ctx.pool, (client) => emitEvent(client, { workspaceId, type, data }));

  it("streams the caller's new events and never another workspace's", async () => {
    const brand = await signupActor(ctx.app);
    const other = await signupActor(ctx.app);
    const messages = await collect(
      { authorization: `Bearer ${brand.apiKey}` },
      (m) => m.some((x) => x.type === 'commission.created'),
      async () => {
        await emit(other.workspaceId, 'sale.created', { saleId: 'sal_other' });
        await emit(brand.workspaceId, 'sale.created', { saleId: 'sal_mine' });
        await emit(brand.workspaceId, 'commission.created', { commissionId: 'com_mine' });
      },
    );
    expect(messages.map((m) => [m.type, m.data])).toEqual([
      ['sale.created', { saleId: 'sal_mine' }],
      ['commission.created', { commissionId: 'com_mine' }],
    ]);
    expect(messages[0]!.id).toMatch(/^evt_/);
  });

  it('ends an open stream once its API key is revoked, before anything else reaches it', async () => {
    const brand = await signupActor(ctx.app);
    const api = asKey(ctx.app, brand.apiKey);
    const created = await api('POST', '/api/v1/api-keys', { name: 'stream reader', scopes: ['read'] });
    expect(created.statusCode, created.body).toBe(201);
    const { id, key } = created.json() as { id: string; key: string };
    const previous = streamAuthRecheck.ms;
    streamAuthRecheck.ms = 200;
    try {
      const abort = new AbortController();
      const res = await fetch(`${baseUrl}/api/v1/stream`, { headers: { authorization: `Bearer ${key}` }, signal: abort.signal });
      expect(res.status).toBe(200);
      expect((await api('DELETE', `/api/v1/api-keys/${id}`)).statusCode).toBe(204);
      await new Promise((r) => setTimeout(r, 500));
      await emit(brand.workspaceId, 'sale.created', { saleId: 'sal_after_revoke' });
      // The server ends the stream: reading reaches its end, and the event never came.
      let text = '';
      const reader = res.body!.getReader();
      const until = Date.now() + 5_000;
      for (;;) {
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), Math.max(0, until - Date.now())))]);
        if (!chunk) throw new Error('the stream stayed open after its key was revoked');
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      expect(text).not.toContain('sal_after_revoke');
      abort.abort();
    } finally {
      streamAuthRecheck.ms = previous;
    }
  });

  it('works with the session cookie of the web app', async () => {
    const brand = await signupActor(ctx.app);
    const messages = await collect(
      { cookie: brand.cookie },
      (m) => m.length > 0,
      () => emit(brand.workspaceId, 'sale.created', { saleId: 'sal_cookie' }).then(() => undefined),
    );
    expect(messages.map((m) => m.data)).toEqual([{ saleId: 'sal_cookie' }]);
  });

  it('replays what happened after Last-Event-ID', async () => {
    const brand = await signupActor(ctx.app);
    const firstId = await emit(brand.workspaceId, 'sale.created', { n: 1 });
    await emit(brand.workspaceId, 'sale.created', { n: 2 });
    await emit(brand.workspaceId, 'sale.created', { n: 3 });
    const messages = await collect({ authorization: `Bearer ${brand.apiKey}`, 'last-event-id': firstId }, (m) => m.length >= 2);
    expect(messages.map((m) => m.data)).toEqual([{ n: 2 }, { n: 3 }]);
  });

  /** Stores events with the given ids in the open transaction of `client` (as a writer that made its ids earlier would). */
  const storeEvents = (client: pg.Pool | pg.ClientBase, workspaceId: string, ids: string[]) =>
    client.query(
      `insert into outbox_events (workspace_id, id, type, data) select $1, id, 'sale.created', jsonb_build_object('eventId', id) from unnest($2::text[]) id`,
      [workspaceId, ids],
    );

  /** A writer on its own connection (the pool's few are the server's), in an open transaction. */
  const openWriter = async () => {
    const client = new pg.Client({ connectionString: ctx.databaseUrl });
    await client.connect();
    await client.query('begin');
    return client;
  };

  it('sends every committed event once, in one stable order, when writers commit out of id order and a burst exceeds a page', async () => {
    const brand = await signupActor(ctx.app);
    let total = 0;
    const messages = await collect(
      { authorization: `Bearer ${brand.apiKey}` },
      (m) => m.length >= total && total > 0,
      async () => {
        // A writer that made its event id a minute ago (it waited on a lock) and commits last.
        const slow = await openWriter();
        await storeEvents(slow, brand.workspaceId, [newId('evt', Date.now() - 60_000)]);
        // Eight concurrent writers make their ids in turn and commit in the reverse order.
        const writers: { client: pg.Client; ids: string[] }[] = [];
        for (let w = 0; w < 8; w++) {
          const client = await openWriter();
          const ids = Array.from({ length: 5 }, () => newId('evt'));
          await storeEvents(client, brand.workspaceId, ids);
          writers.push({ client, ids });
        }
        for (const { client } of writers.reverse()) {
          await client.query('commit');
          await client.end();
          await sleep(20);
        }
        // Three pages and a bit in one moment: more than the stream reads in one query.
        await storeEvents(ctx.pool, brand.workspaceId, Array.from({ length: 3 * STREAM_PAGE_SIZE + 7 }, () => newId('evt')));
        await sleep(1500);
        await slow.query('commit');
        await slow.end();
        total = 1 + 8 * 5 + 3 * STREAM_PAGE_SIZE + 7;
      },
    );
    const { rows } = await ctx.pool.query<{ id: string }>('select id from outbox_events where workspace_id = $1 order by xact_id, id', [brand.workspaceId]);
    expect(rows).toHaveLength(total);
    expect(messages.map((m) => m.id)).toEqual(rows.map((r) => r.id));
    expect(messages.map((m) => m.data.eventId)).toEqual(rows.map((r) => r.id));
  });

  it('resuming after Last-Event-ID still sends an event with a smaller id that committed after it', async () => {
    const brand = await signupActor(ctx.app);
    const madeFirst = newId('evt');
    await sleep(5);
    const sentBefore = newId('evt');
    await storeEvents(ctx.pool, brand.workspaceId, [sentBefore]);
    // The writer of the older id commits after the client had received `sentBefore` and dropped.
    await storeEvents(ctx.pool, brand.workspaceId, [madeFirst]);
    const messages = await collect(
      { authorization: `Bearer ${brand.apiKey}`, 'last-event-id': sentBefore },
      (m) => m.length >= 2,
      () => emit(brand.workspaceId, 'sale.created', { eventId: 'after' }).then(() => undefined),
    );
    expect(messages.map((m) => m.data.eventId)).toEqual([madeFirst, 'after']);
  });

  it('stops writing while the client does not read (back-pressure)', async () => {
    const brand = await signupActor(ctx.app);
    const serverSockets: net.Socket[] = [];
    const onConnection = (socket: net.Socket) => serverSockets.push(socket);
    ctx.app.server.on('connection', onConnection);
    const client = net.connect(Number(new URL(baseUrl).port), '127.0.0.1');
    try {
      await once(client, 'connect');
      client.write(`GET /api/v1/stream HTTP/1.1\r\nhost: tandem.test\r\nauthorization: Bearer ${brand.apiKey}\r\n\r\n`);
      const [head] = (await once(client, 'data')) as [Buffer];
      expect(head.toString()).toContain('200 OK');
      client.pause();
      // About 16 MB of events: far more than the kernel's socket buffers hold.
      await ctx.pool.query(
        `insert into outbox_events (workspace_id, id, type, data)
         select $1, 'evt_pressure' || lpad(i::text, 6, '0'), 'sale.created', jsonb_build_object('padding', repeat(md5(i::text), 250))
           from generate_series(1, 2000) i`,
        [brand.workspaceId],
      );
      await sleep(3000);
      const buffered = Math.max(...serverSockets.map((s) => s.writableLength));
      expect(buffered).toBeLessThan(1_000_000);
    } finally {
      ctx.app.server.off('connection', onConnection);
      client.destroy();
    }
  });

  it('cuts off a client that stays connected but stops reading, and frees its slot', async () => {
    const brand = await signupActor(ctx.app);
    const saved = streamDrainDeadline.ms;
    streamDrainDeadline.ms = 500;
    const serverSockets: net.Socket[] = [];
    const onConnection = (socket: net.Socket) => serverSockets.push(socket);
    ctx.app.server.on('connection', onConnection);
    const client = net.connect(Number(new URL(baseUrl).port), '127.0.0.1');
    try {
      await once(client, 'connect');
      client.write(`GET /api/v1/stream HTTP/1.1\r\nhost: tandem.test\r\nauthorization: Bearer ${brand.apiKey}\r\n\r\n`);
      await once(client, 'data');
      client.pause();
      await ctx.pool.query(
        `insert into outbox_events (workspace_id, id, type, data)
         select $1, 'evt_stall' || lpad(i::text, 6, '0'), 'sale.created', jsonb_build_object('padding', repeat(md5(i::text), 250))
           from generate_series(1, 2000) i`,
        [brand.workspaceId],
      );
      // The server waits for the client to read, then gives up on it (the paused client cannot see that itself).
      for (const until = Date.now() + 8000; !serverSockets.every((socket) => socket.destroyed) && Date.now() < until; ) await sleep(100);
      expect(serverSockets.map((socket) => socket.destroyed)).toEqual([true]);
      // Its slot is free again: five more streams of the same key are taken.
      const streams = await Promise.all(
        Array.from({ length: 5 }, () => {
          const abort = new AbortController();
          return fetch(`${baseUrl}/api/v1/stream`, { headers: { authorization: `Bearer ${brand.apiKey}` }, signal: abort.signal }).then((res) => ({ res, abort }));
        }),
      );
      for (const s of streams) s.abort.abort();
      expect(streams.map((s) => s.res.status)).toEqual([200, 200, 200, 200, 200]);
    } finally {
      streamDrainDeadline.ms = saved;
      ctx.app.server.off('connection', onConnection);
      client.destroy();
    }
  });

  it('releases the slot of a client that went away before its stream started', async () => {
    const brand = await signupActor(ctx.app);
    // Holding the clicks table makes the stream's start (its latest click) wait while the clients leave.
    const locker = new pg.Client({ connectionString: ctx.databaseUrl });
    await locker.connect();
    const sockets: net.Socket[] = [];
    try {
      await locker.query('begin');
      await locker.query('lock table clicks in access exclusive mode');
      for (let i = 0; i < 5; i++) {
        const socket = net.connect(Number(new URL(baseUrl).port), '127.0.0.1');
        await once(socket, 'connect');
        socket.write(`GET /api/v1/stream HTTP/1.1\r\nhost: tandem.test\r\nauthorization: Bearer ${brand.apiKey}\r\n\r\n`);
        sockets.push(socket);
      }
      await sleep(300);
      for (const socket of sockets) socket.destroy();
      await sleep(300);
    } finally {
      await locker.query('commit');
      await locker.end();
    }
    await sleep(500);
    const abort = new AbortController();
    const res = await fetch(`${baseUrl}/api/v1/stream`, { headers: { authorization: `Bearer ${brand.apiKey}` }, signal: abort.signal });
    abort.abort();
    expect(res.status).toBe(200);
  });

  it('refuses a sixth open stream of one API key with 429 rate_limited, and frees the slot when a stream ends', async () => {
    const brand = await signupActor(ctx.app);
    const open = (headers: Record<string, string>) => {
      const abort = new AbortController();
      return fetch(`${baseUrl}/api/v1/stream`, { headers, signal: abort.signal }).then((res) => ({ res, abort }));
    };
    const byKey = { authorization: `Bearer ${brand.apiKey}` };
    const streams = await Promise.all(Array.from({ length: 5 }, () => open(byKey)));
    try {
      expect(streams.map((s) => s.res.status)).toEqual([200, 200, 200, 200, 200]);
      const refused = await open(byKey);
      expect(refused.res.status).toBe(429);
      expect(((await refused.res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'rate_limited',
        message: expect.stringContaining('open event streams'),
      });
      // Another caller of the same workspace (the person, by session) has slots of its own.
      const byCookie = await open({ cookie: brand.cookie });
      streams.push(byCookie);
      expect(byCookie.res.status).toBe(200);
      streams.shift()!.abort.abort();
      let again = await open(byKey);
      for (const until = Date.now() + 3000; again.res.status === 429 && Date.now() < until; again = await open(byKey)) await sleep(50);
      streams.push(again);
      expect(again.res.status).toBe(200);
    } finally {
      for (const s of streams) s.abort.abort();
    }
  });

  it('nudges when new clicks of the workspace land', async () => {
    const brand = await signupActor(ctx.app);
    const other = await signupActor(ctx.app);
    const insertClick = (workspaceId: string) =>
      ctx.pool.query(
        `insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at) values ($1, $2, 'lnk_x', 'prg_x', 'ptn_x', now())`,
        [workspaceId, uuidv7()],
      );
    const messages = await collect(
      { authorization: `Bearer ${brand.apiKey}` },
      (m) => m.some((x) => x.type === 'clicks.recorded'),
      async () => {
        await insertClick(other.workspaceId);
        await new Promise((r) => setTimeout(r, 1200));
        await insertClick(brand.workspaceId);
        await insertClick(brand.workspaceId);
      },
    );
    expect(messages.filter((m) => m.type === 'clicks.recorded').map((m) => m.data)).toEqual([{ count: 2 }]);
  });

  it("streams to a partner's portal session only the events about its own partner records", async () => {
    const brand = await signupActor(ctx.app);
    const email = `partner-${Date.now()}@example.com`;
    const signup = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/portal/signup',
      payload: { email, password: 'long enough password', name: 'Pat' },
    });
    expect(signup.statusCode).toBe(201);
    const cookie = signup.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const userId = (signup.json() as { user: { id: string } }).user.id;
    await ctx.pool.query(
      `insert into partners (workspace_id, id, email, name, user_id) values ($1, 'ptn_mine', $2, 'Pat', $3), ($1, 'ptn_other', 'other@example.com', 'Other', null)`,
      [brand.workspaceId, email, userId],
    );
    const messages = await collect(
      { cookie },
      (m) => m.some((x) => x.type === 'payout.paid'),
      async () => {
        await emit(brand.workspaceId, 'commission.created', { id: 'com_other', partnerId: 'ptn_other', amount: 1 });
        // The sale itself is the brand's business, even when this partner referred it.
        await emit(brand.workspaceId, 'sale.created', { id: 'sal_mine', partnerId: 'ptn_mine', amount: 29900 });
        await emit(brand.workspaceId, 'commission.created', {
          id: 'com_mine',
          partnerId: 'ptn_mine',
          amount: 700,
          customerId: 'cus_secret',
        });
        await withTransaction(ctx.pool, (client) =>
          emitEvent(client, {
            workspaceId: brand.workspaceId,
            type: 'payout.paid',
            data: { id: 'pay_1', partnerId: 'ptn_mine', amount: 700 },
          }),
        );
      },
      '/api/v1/portal/stream',
    );
    expect(messages.map((m) => [m.type, m.data])).toEqual([
      ['commission.created', { id: 'com_mine', partnerId: 'ptn_mine', amount: 700 }],
      ['payout.paid', { id: 'pay_1', partnerId: 'ptn_mine', amount: 700 }],
    ]);
  });

  it('refuses the partner stream to an API key (it needs a signed-in person)', async () => {
    const brand = await signupActor(ctx.app);
    const res = await fetch(`${baseUrl}/api/v1/portal/stream`, { headers: { authorization: `Bearer ${brand.apiKey}` } });
    expect(res.status).toBe(403);
  });

  it('refuses an anonymous caller with 401', async () => {
    const res = await fetch(`${baseUrl}/api/v1/stream`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('ends open streams when the app closes instead of hanging the shutdown', async () => {
    const local = await createTestContext();
    await local.app.listen({ port: 0, host: '127.0.0.1' });
    const address = local.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const brand = await signupActor(local.app);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/stream`, { headers: { authorization: `Bearer ${brand.apiKey}` } });
    const reader = res.body!.getReader();
    await reader.read();
    const started = Date.now();
    await local.close();
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await reader.read()).done).toBe(true);
  });
});
