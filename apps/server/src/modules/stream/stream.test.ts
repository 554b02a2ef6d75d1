import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idTime, newId, uuidv7 } from '@tandem/core';
import { asKey, createTestContext, signupActor, type TestContext } from '../../test/harness.js';
import { withTransaction } from '../../db/tx.js';
import { emitEvent } from '../events/emit.js';
import { eventIdFloor, LOOKBACK_MS, partnerView, pollFrom, sseFrame, startCursor, takeUnsent } from './cursor.js';
import { streamAuthRecheck } from './routes.js';

describe('stream cursor (pure)', () => {
  it('makes an id floor that sorts before every id of that millisecond and after earlier ones', () => {
    const ms = Date.UTC(2026, 10, 21, 6, 0, 0);
    const floor = eventIdFloor(ms);
    expect(idTime(floor)).toBe(ms);
    expect(floor < newId('evt', ms)).toBe(true);
    expect(newId('evt', ms - 1) < floor).toBe(true);
  });

  it('looks back over the window so a late-committing older id is still sent, once', () => {
    const now = 1_800_000_000_000;
    const cursor = startCursor(now);
    const resume = cursor.after;
    const first = newId('evt', now + 10);
    expect(takeUnsent(cursor, [{ id: first }], now + 20, resume)).toEqual([{ id: first }]);
    expect(cursor.after).toBe(first);
    // A transaction that made its id earlier commits after `first` was streamed.
    const late = newId('evt', now + 5);
    expect(pollFrom(cursor, now + 1000) <= late).toBe(true);
    expect(takeUnsent(cursor, [{ id: late }, { id: first }], now + 1000, resume)).toEqual([{ id: late }]);
    expect(takeUnsent(cursor, [{ id: late }, { id: first }], now + 2000, resume)).toEqual([]);
  });

  it('resumes after a valid Last-Event-ID and ignores a malformed one', () => {
    const id = newId('evt', 1_700_000_000_000);
    expect(startCursor(1_800_000_000_000, id).after).toBe(id);
    expect(startCursor(1_800_000_000_000, 'nonsense').after).toBe(eventIdFloor(1_800_000_000_000));
    expect(pollFrom(startCursor(1_800_000_000_000, id), 1_800_000_000_000)).toBe(id);
    expect(pollFrom(startCursor(1_800_000_000_000), 1_800_000_000_000)).toBe(eventIdFloor(1_800_000_000_000 - LOOKBACK_MS));
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
