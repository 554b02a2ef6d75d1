import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../db/tx.js';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { emitEvent, type EventType } from '../events/emit.js';
import { RETRY_DELAYS_SECONDS } from './retry-schedule.js';
import { deliverDueWebhooks, dispatchOutboxEvents } from './deliveries.js';
import { startWebhookWakeups } from './jobs.js';

/**
 * A real receiver on 127.0.0.1. It verifies every signature with its own HMAC code (not Tandem's),
 * answers with whatever `respond` says, and can go down and come back on the same port.
 */
class Receiver {
  private server: http.Server | undefined;
  port = 0;
  readonly requests: { id: string; timestamp: number; body: { type: string; timestamp: string; data: Record<string, unknown> }; status: number; signatureValid: boolean }[] = [];
  respond: (id: string, attemptOfThisId: number) => number = () => 204;
  /** While set, requests are answered only once it settles: keeps an attempt in flight. */
  hold: Promise<void> | undefined;
  /** Told when a request has been read, before any hold. */
  onArrival: () => void = () => {};

  constructor(private secret = '') {}

  useSecret(secret: string) {
    this.secret = secret;
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hooks/tandem`;
  }

  private verify(id: string, timestamp: string, raw: string, header: string): boolean {
    const key = Buffer.from(this.secret.replace(/^whsec_/, ''), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${raw}`).digest();
    return header.split(' ').some((candidate) => {
      const [version, mac] = candidate.split(',');
      const got = Buffer.from(mac ?? '', 'base64');
      return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
    });
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      req.on('end', () => {
        this.onArrival();
        void (this.hold ?? Promise.resolve()).then(() => {
          const id = String(req.headers['webhook-id']);
          const timestamp = String(req.headers['webhook-timestamp']);
          const signatureValid = this.verify(id, timestamp, raw, String(req.headers['webhook-signature'] ?? ''));
          const attempt = this.requests.filter((r) => r.id === id).length + 1;
          const status = signatureValid ? this.respond(id, attempt) : 401;
          this.requests.push({ id, timestamp: Number(timestamp), body: JSON.parse(raw), status, signatureValid });
          res.statusCode = status;
          res.end(status < 300 ? 'ok' : 'nope');
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  accepted(id: string) {
    return this.requests.filter((r) => r.id === id && r.status >= 200 && r.status < 300);
  }
}

const T0 = new Date('2026-03-02T09:00:00.000Z');
const seconds = (n: number) => n * 1000;
/** The longest a retry can wait after `failures` failures (delay + 20 % jitter), plus a second. */
const afterRetry = (failures: number) => seconds(Math.ceil(RETRY_DELAYS_SECONDS[failures - 1]! * 1.2) + 1);

let ctx: TestContext;
let owner: Actor;
let api: ReturnType<typeof asKey>;

beforeAll(async () => {
  ctx = await createTestContext({ now: T0, env: { TANDEM_WEBHOOKS_ALLOW_PRIVATE: '1' } });
  owner = await signupActor(ctx.app);
  api = asKey(ctx.app, owner.apiKey);
});
afterAll(async () => ctx?.close());

async function emit(workspaceId: string, type: EventType, data: Record<string, unknown>): Promise<string> {
  return withTransaction(ctx.pool, (client) => emitEvent(client, { workspaceId, type, data }));
}

/** What the wake-ups do in production: dispatch the outbox, then send what is due by the clock. */
async function pump(): Promise<void> {
  await ctx.services.queue.enqueue('webhooks.dispatch', {}, { uniqueKey: 'webhooks.dispatch' });
  await ctx.services.queue.enqueue('webhooks.deliver', {}, { uniqueKey: 'webhooks.deliver' });
  await ctx.services.queue.drain();
}

async function createEndpoint(receiver: Receiver, events: string[] = ['*'], as = api) {
  const res = await as('POST', '/api/v1/webhooks', { url: receiver.url, events });
  expect(res.statusCode).toBe(201);
  const body = res.json<{ id: string; secret: string }>();
  receiver.useSecret(body.secret);
  return body;
}

async function deliveriesOf(endpointId: string, as = api) {
  const res = await as('GET', `/api/v1/webhooks/${endpointId}/deliveries?limit=100`);
  expect(res.statusCode).toBe(200);
  return res.json<{ data: { id: string; eventId: string; eventType: string; status: string; attempts: { attempt: number; statusCode: number | null; error: string | null }[] }[] }>().data;
}

describe('webhook delivery through failures and an outage', () => {
  it('delivers every event exactly once by webhook-id, signed, after retries and a receiver outage', async () => {
    const receiver = new Receiver();
    await receiver.start();
    try {
      const endpoint = await createEndpoint(receiver);
      // The first two attempts of every delivery fail on purpose.
      receiver.respond = (_id, attempt) => (attempt <= 2 ? 500 : 200);
      const emitted = [
        await emit(owner.workspaceId, 'partner.enrolled', { partnerId: 'ptn_1', enrollmentId: 'enr_1', programId: 'prg_1', status: 'approved' }),
        await emit(owner.workspaceId, 'lead.created', { customerId: 'cus_1', externalId: 'c-1' }),
        await emit(owner.workspaceId, 'sale.created', { id: 'sal_1', customerId: 'cus_1', invoiceId: 'inv-1', amount: 4900, currency: 'EUR' }),
        await emit(owner.workspaceId, 'refund.created', { id: 'ref_1', saleId: 'sal_1', amount: 4900 }),
        await emit(owner.workspaceId, 'payout.paid', { id: 'pay_1', partnerId: 'ptn_1', amount: 1200, currency: 'EUR', status: 'paid' }),
      ];

      await pump(); // attempt 1: 500
      ctx.clock.advance(afterRetry(1));
      await pump(); // attempt 2: 500
      expect(receiver.requests).toHaveLength(10);

      await receiver.stop(); // the receiver is down for a while
      ctx.clock.advance(afterRetry(2));
      await pump(); // attempt 3: connection refused
      ctx.clock.advance(afterRetry(3));
      await pump(); // attempt 4: connection refused
      expect(receiver.requests).toHaveLength(10);

      await receiver.start(); // back on the same port
      ctx.clock.advance(afterRetry(4));
      await pump(); // attempt 5: accepted
      ctx.clock.advance(seconds(30 * 3600));
      await pump(); // nothing more to send

      expect(receiver.requests.every((r) => r.signatureValid)).toBe(true);
      const deliveries = await deliveriesOf(endpoint.id);
      expect(deliveries.map((d) => d.eventId).sort()).toEqual([...emitted].sort());
      for (const delivery of deliveries) {
        expect(receiver.accepted(delivery.id)).toHaveLength(1);
        expect(delivery.status).toBe('delivered');
        expect(delivery.attempts.map((a) => a.statusCode)).toEqual([500, 500, null, null, 200]);
        expect(delivery.attempts[2]!.error).toMatch(/ECONNREFUSED/);
      }
      const types = receiver.requests.filter((r) => r.status === 200).map((r) => r.body.type).sort();
      expect(types).toEqual(['lead.created', 'partner.enrolled', 'payout.paid', 'refund.created', 'sale.created']);
      const sale = receiver.requests.find((r) => r.body.type === 'sale.created')!;
      expect(sale.body.data).toEqual({ id: 'sal_1', customerId: 'cus_1', invoiceId: 'inv-1', amount: 4900, currency: 'EUR' });
      // Every retry re-signs with the clock of its own attempt, the body stays byte-identical.
      const attemptsOfSale = receiver.requests.filter((r) => r.id === sale.id);
      expect(new Set(attemptsOfSale.map((r) => r.timestamp)).size).toBe(attemptsOfSale.length);
      expect(new Set(attemptsOfSale.map((r) => JSON.stringify(r.body))).size).toBe(1);
    } finally {
      await receiver.stop();
    }
  });

  it('sends only subscribed types, to enabled endpoints, of its own workspace', async () => {
    const other = await signupActor(ctx.app);
    const salesOnly = new Receiver();
    const everything = new Receiver();
    const foreign = new Receiver();
    await Promise.all([salesOnly.start(), everything.start(), foreign.start()]);
    try {
      const sales = await createEndpoint(salesOnly, ['sale.created']);
      const all = await createEndpoint(everything, ['*']);
      await createEndpoint(foreign, ['*'], asKey(ctx.app, other.apiKey));
      const off = await createEndpoint(new Receiver(), ['*']);
      expect((await api('PATCH', `/api/v1/webhooks/${off.id}`, { enabled: false })).statusCode).toBe(200);

      await emit(owner.workspaceId, 'sale.created', { id: 'sal_2', customerId: 'cus_2', invoiceId: 'inv-2', amount: 100, currency: 'USD' });
      await emit(owner.workspaceId, 'lead.created', { customerId: 'cus_2', externalId: 'c-2' });
      await pump();
      await pump(); // dispatching twice creates nothing twice

      expect(salesOnly.requests.map((r) => r.body.type)).toEqual(['sale.created']);
      expect(everything.requests.map((r) => r.body.type).sort()).toEqual(['lead.created', 'sale.created']);
      expect(foreign.requests).toHaveLength(0);
      expect(await deliveriesOf(off.id)).toHaveLength(0);
      expect(await deliveriesOf(sales.id)).toHaveLength(1);
      expect(await deliveriesOf(all.id)).toHaveLength(2);
    } finally {
      await Promise.all([salesOnly.stop(), everything.stop(), foreign.stop()]);
    }
  });
});

describe('a workspace without webhooks', () => {
  it('stores its events as already dispatched, and an endpoint gets the events written after it exists', async () => {
    const quiet = await signupActor(ctx.app);
    const dispatched = async (id: string) =>
      (await ctx.pool.query<{ done: boolean }>('select webhooks_dispatched_at is not null as done from outbox_events where workspace_id = $1 and id = $2', [quiet.workspaceId, id])).rows[0]!.done;
    const before = await emit(quiet.workspaceId, 'lead.created', { customerId: 'cus_q1', externalId: 'q-1' });
    expect(await dispatched(before)).toBe(true); // never in the dispatcher's work list

    const receiver = new Receiver();
    await receiver.start();
    try {
      await createEndpoint(receiver, ['*'], asKey(ctx.app, quiet.apiKey));
      const after = await emit(quiet.workspaceId, 'lead.created', { customerId: 'cus_q2', externalId: 'q-2' });
      expect(await dispatched(after)).toBe(false);
      await pump();
      expect(await dispatched(after)).toBe(true);
      expect(receiver.requests.map((r) => r.body.data.customerId)).toEqual(['cus_q2']);
    } finally {
      await receiver.stop();
    }
  });
});

describe('persistent failure', () => {
  it('disables the endpoint with a reason and an audit notice after all attempts fail, and resumes when re-enabled', async () => {
    const actor = await signupActor(ctx.app);
    const as = asKey(ctx.app, actor.apiKey);
    const receiver = new Receiver();
    await receiver.start();
    try {
      const endpoint = await createEndpoint(receiver, ['*'], as);
      receiver.respond = () => 503;
      await emit(actor.workspaceId, 'commission.created', { id: 'com_1', programId: 'prg_1', partnerId: 'ptn_1', kind: 'sale', amount: 10, currency: 'USD', status: 'pending' });
      await pump();
      for (let failures = 1; failures <= RETRY_DELAYS_SECONDS.length; failures++) {
        const before = (await as('GET', `/api/v1/webhooks/${endpoint.id}`)).json();
        expect(before.enabled).toBe(true);
        ctx.clock.advance(afterRetry(failures));
        await pump();
      }
      expect(receiver.requests).toHaveLength(RETRY_DELAYS_SECONDS.length + 1);
      const disabled = (await as('GET', `/api/v1/webhooks/${endpoint.id}`)).json();
      expect(disabled).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/failed attempts/), disabledAt: expect.any(String) });
      const [delivery] = await deliveriesOf(endpoint.id, as);
      expect(delivery!.status).toBe('failed');
      const audit = await ctx.pool.query(`select actor_kind, action, target_id, after from audit_log where workspace_id = $1 and action = 'webhook.disabled'`, [actor.workspaceId]);
      expect(audit.rows).toEqual([{ actor_kind: 'system', action: 'webhook.disabled', target_id: endpoint.id, after: { enabled: false, reason: disabled.disabledReason } }]);

      // While disabled nothing is dispatched to it.
      await emit(actor.workspaceId, 'payout.created', { id: 'pay_2', partnerId: 'ptn_1', amount: 10, currency: 'USD', status: 'pending' });
      await pump();
      expect(receiver.requests).toHaveLength(RETRY_DELAYS_SECONDS.length + 1);

      receiver.respond = () => 200;
      const enabled = await as('PATCH', `/api/v1/webhooks/${endpoint.id}`, { enabled: true });
      expect(enabled.json()).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
      const redelivered = await as('POST', `/api/v1/webhooks/${endpoint.id}/deliveries/${delivery!.id}/redeliver`);
      expect(redelivered.statusCode).toBe(202);
      expect(redelivered.json()).toMatchObject({ id: delivery!.id, status: 'pending' });
      await pump();
      expect(receiver.accepted(delivery!.id)).toHaveLength(1);
      expect((await deliveriesOf(endpoint.id, as))[0]).toMatchObject({ id: delivery!.id, status: 'delivered' });
    } finally {
      await receiver.stop();
    }
  });
});

/** An endpoint whose receiver holds every request until released, with one delivery's first attempt out. */
async function attemptInFlight(respond: Receiver['respond']) {
  const actor = await signupActor(ctx.app);
  const as = asKey(ctx.app, actor.apiKey);
  const receiver = new Receiver();
  await receiver.start();
  const endpoint = await createEndpoint(receiver, ['*'], as);
  receiver.respond = respond;
  let release = () => {};
  receiver.hold = new Promise<void>((resolve) => (release = resolve));
  const arrived = new Promise<void>((resolve) => (receiver.onArrival = resolve));
  await emit(actor.workspaceId, 'payout.paid', { id: 'pay_h', partnerId: 'ptn_1', amount: 10, currency: 'USD', status: 'paid' });
  expect(await dispatchOutboxEvents(ctx.services)).toBe(1);
  const inFlight = deliverDueWebhooks(ctx.services);
  await arrived;
  receiver.hold = undefined; // later requests are answered at once; the first one waits for release()
  const [delivery] = await deliveriesOf(endpoint.id, as);
  return { actor, as, receiver, endpoint, delivery: delivery!, release, inFlight };
}

describe('a redelivery while an earlier attempt is in flight', () => {
  it('stands when that attempt fails afterwards: the failure is logged, the redelivery goes out at once and delivers', async () => {
    const { as, receiver, endpoint, delivery, release, inFlight } = await attemptInFlight((_id, attempt) => (attempt === 1 ? 503 : 200));
    try {
      const redelivered = await as('POST', `/api/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`);
      expect(redelivered.statusCode).toBe(202);
      release();
      await inFlight; // the first attempt is answered 503 after the redelivery
      await pump(); // the clock has not moved: a retry delay would hold the redelivery back

      expect(receiver.requests.filter((r) => r.id === delivery.id).map((r) => r.status)).toEqual([503, 200]);
      expect((await deliveriesOf(endpoint.id, as))[0]).toMatchObject({ status: 'delivered', attempts: [{ attempt: 1, statusCode: 503 }, { attempt: 2, statusCode: 200 }] });
    } finally {
      await receiver.stop();
    }
  });
});

describe('an attempt in flight across a change to its endpoint', () => {
  it('does not hold back the fresh schedule of a re-enabled endpoint when that attempt fails afterwards', async () => {
    const { as, receiver, endpoint, delivery, release, inFlight } = await attemptInFlight((_id, attempt) => (attempt === 1 ? 503 : 200));
    try {
      expect((await as('PATCH', `/api/v1/webhooks/${endpoint.id}`, { enabled: false })).statusCode).toBe(200);
      expect((await as('PATCH', `/api/v1/webhooks/${endpoint.id}`, { enabled: true })).statusCode).toBe(200);
      release();
      await inFlight; // answered 503 after the endpoint was re-enabled
      await pump(); // the clock has not moved: a retry delay (or the old claim) would hold it back

      expect(receiver.requests.filter((r) => r.id === delivery.id).map((r) => r.status)).toEqual([503, 200]);
      expect((await deliveriesOf(endpoint.id, as))[0]).toMatchObject({ status: 'delivered', attempts: [{ attempt: 1, statusCode: 503 }, { attempt: 2, statusCode: 200 }] });
    } finally {
      await receiver.stop();
    }
  });

  it('records nothing when the endpoint was deleted meanwhile', async () => {
    const { as, receiver, endpoint, delivery, release, inFlight } = await attemptInFlight(() => 200);
    try {
      expect((await as('DELETE', `/api/v1/webhooks/${endpoint.id}`)).statusCode).toBe(204);
      release();
      await inFlight;
      expect(receiver.requests.map((r) => r.status)).toEqual([200]);
      const attempts = await ctx.pool.query('select 1 from webhook_attempts where delivery_id = $1', [delivery.id]);
      expect(attempts.rowCount).toBe(0);
    } finally {
      await receiver.stop();
    }
  });

  it('keeps the endpoint\'s last success at the newest one when an older request succeeds last', async () => {
    const { actor, receiver, endpoint, release, inFlight } = await attemptInFlight(() => 200);
    try {
      ctx.clock.advance(seconds(10));
      await emit(actor.workspaceId, 'payout.paid', { id: 'pay_i', partnerId: 'ptn_1', amount: 10, currency: 'USD', status: 'paid' });
      expect(await dispatchOutboxEvents(ctx.services)).toBe(1);
      expect(await deliverDueWebhooks(ctx.services)).toBe(1); // the second delivery, while the first waits
      const newest = ctx.clock.now;
      release();
      await inFlight; // the first request, sent 10 s earlier, succeeds last
      expect(receiver.requests.map((r) => r.status)).toEqual([200, 200]);
      const { rows } = await ctx.pool.query<{ last_success_at: Date }>('select last_success_at from webhook_endpoints where workspace_id = $1 and id = $2', [actor.workspaceId, endpoint.id]);
      expect(rows[0]!.last_success_at.toISOString()).toBe(newest.toISOString());
    } finally {
      await receiver.stop();
    }
  });
});

describe('webhook endpoints API', () => {
  it('creates with a whsec_ secret shown once and stored encrypted', async () => {
    const res = await api('POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/tandem', events: ['sale.created', 'sale.created', 'refund.created'], description: 'CRM' });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({ id: expect.stringMatching(/^whk_/), url: 'https://hooks.example.com/tandem', events: ['refund.created', 'sale.created'], description: 'CRM', enabled: true });
    expect(Buffer.from(created.secret.replace(/^whsec_/, ''), 'base64')).toHaveLength(32);
    const stored = await ctx.pool.query<{ secret_encrypted: string }>('select secret_encrypted from webhook_endpoints where id = $1', [created.id]);
    expect(stored.rows[0]!.secret_encrypted).not.toContain(created.secret.slice(6));
    const fetched = await api('GET', `/api/v1/webhooks/${created.id}`);
    expect(fetched.json()).not.toHaveProperty('secret');
    const listed = await api('GET', '/api/v1/webhooks?limit=100');
    expect(listed.json().data.map((w: { id: string }) => w.id)).toContain(created.id);
    expect(JSON.stringify(listed.json())).not.toContain('whsec_');
  });

  it('names bad fields: a non-http URL, unknown event types, no events, unknown keys', async () => {
    const res = await api('POST', '/api/v1/webhooks', { url: 'ftp://example.com/x', events: ['sale.exploded'], colour: 'red' });
    expect(res.statusCode).toBe(422);
    const paths = res.json().error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['colour', 'events.0']);
    const ftp = await api('POST', '/api/v1/webhooks', { url: 'ftp://example.com/x', events: ['*'] });
    expect(ftp.statusCode).toBe(422);
    expect(ftp.json().error.details).toEqual([{ path: 'url', message: 'must use http or https' }]);
    const none = await api('POST', '/api/v1/webhooks', { url: 'https://example.com/x', events: [] });
    expect(none.statusCode).toBe(422);
    expect(none.json().error.details[0].path).toBe('events');
  });

  it('sends a signed test event', async () => {
    const receiver = new Receiver();
    await receiver.start();
    try {
      const endpoint = await createEndpoint(receiver, ['sale.created']);
      const res = await api('POST', `/api/v1/webhooks/${endpoint.id}/test`);
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ id: expect.stringMatching(/^dlv_/), eventType: 'webhook.test', status: 'pending', attempts: [] });
      await pump();
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]).toMatchObject({ id: res.json().id, signatureValid: true, status: 204, body: { type: 'webhook.test', data: { webhookId: endpoint.id } } });
      expect(receiver.requests[0]!.timestamp).toBe(Math.floor(ctx.clock.now.getTime() / 1000));
    } finally {
      await receiver.stop();
    }
  });

  it('pages the delivery log', async () => {
    const receiver = new Receiver();
    await receiver.start();
    try {
      const endpoint = await createEndpoint(receiver);
      for (let i = 0; i < 3; i++) await api('POST', `/api/v1/webhooks/${endpoint.id}/test`);
      await pump();
      const first = (await api('GET', `/api/v1/webhooks/${endpoint.id}/deliveries?limit=2`)).json();
      expect(first.data).toHaveLength(2);
      expect(first.data[0].attempts).toEqual([{ attempt: 1, statusCode: 204, error: null, durationMs: expect.any(Number), attemptedAt: ctx.clock.now.toISOString() }]);
      const second = (await api('GET', `/api/v1/webhooks/${endpoint.id}/deliveries?limit=2&cursor=${first.nextCursor}`)).json();
      expect(second.data).toHaveLength(1);
      expect(second.nextCursor).toBeNull();
      expect(new Set([...first.data, ...second.data].map((d: { id: string }) => d.id)).size).toBe(3);
      const delivered = (await api('GET', `/api/v1/webhooks/${endpoint.id}/deliveries?status=pending`)).json();
      expect(delivered.data).toHaveLength(0);
    } finally {
      await receiver.stop();
    }
  });

  it('updates and deletes, with audit entries', async () => {
    const created = (await api('POST', '/api/v1/webhooks', { url: 'https://a.example.com/x', events: ['*'] })).json();
    const patched = await api('PATCH', `/api/v1/webhooks/${created.id}`, { url: 'https://b.example.com/y', events: ['payout.paid'], description: null });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ url: 'https://b.example.com/y', events: ['payout.paid'] });
    expect((await api('DELETE', `/api/v1/webhooks/${created.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/api/v1/webhooks/${created.id}`)).statusCode).toBe(404);
    const { rows } = await ctx.pool.query(`select action, before, after from audit_log where workspace_id = $1 and target_id = $2 order by id`, [owner.workspaceId, created.id]);
    expect(rows.map((r) => r.action)).toEqual(['webhook.created', 'webhook.updated', 'webhook.deleted']);
    expect(rows[1]).toMatchObject({ before: { url: 'https://a.example.com/x' }, after: { url: 'https://b.example.com/y', events: ['payout.paid'] } });
  });

  it('answers 404 for another workspace’s endpoint and for unknown deliveries', async () => {
    const created = (await api('POST', '/api/v1/webhooks', { url: 'https://a.example.com/x', events: ['*'] })).json();
    const stranger = asKey(ctx.app, (await signupActor(ctx.app)).apiKey);
    for (const [method, url, body] of [
      ['GET', `/api/v1/webhooks/${created.id}`],
      ['PATCH', `/api/v1/webhooks/${created.id}`, { enabled: false }],
      ['DELETE', `/api/v1/webhooks/${created.id}`],
      ['GET', `/api/v1/webhooks/${created.id}/deliveries`],
      ['POST', `/api/v1/webhooks/${created.id}/test`],
      ['POST', `/api/v1/webhooks/${created.id}/deliveries/dlv_01jd0000000000000000000000/redeliver`],
    ] as const) {
      const res = await stranger(method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    expect((await api('POST', `/api/v1/webhooks/${created.id}/deliveries/dlv_01jd0000000000000000000000/redeliver`)).statusCode).toBe(404);
    expect((await api('GET', `/api/v1/webhooks/${created.id}`)).json().enabled).toBe(true);
  });

  it('needs the admin scope', async () => {
    const key = (await api('POST', '/api/v1/api-keys', { name: 'reader', scopes: ['read', 'write'] })).json().key;
    const res = await asKey(ctx.app, key)('GET', '/api/v1/webhooks');
    expect(res.statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/webhooks' })).statusCode).toBe(401);
  });

  it('documents every event payload in the OpenAPI document', async () => {
    const doc = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(Object.keys(doc.webhooks ?? {})).toEqual(expect.arrayContaining(['sale.created', 'payout.paid', 'dispute.decided', 'webhook.test']));
    expect(doc.webhooks['sale.created'].post.requestBody.content['application/json'].schema.properties.data.properties.amount).toBeDefined();
  });
});

describe('SSRF guard without the operator setting', () => {
  let strict: TestContext;
  beforeAll(async () => {
    strict = await createTestContext();
  });
  afterAll(async () => strict?.close());

  it('refuses loopback, private, link-local and unique-local URLs when saved', async () => {
    const as = asKey(strict.app, (await signupActor(strict.app)).apiKey);
    for (const url of ['http://127.0.0.1:9000/x', 'http://localhost/x', 'http://10.0.0.5/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://[fd12::1]/x', 'http://192.168.1.10/x']) {
      const res = await as('POST', '/api/v1/webhooks', { url, events: ['*'] });
      expect(res.statusCode, url).toBe(422);
      expect(res.json().error.details).toEqual([{ path: 'url', message: 'must not point to a private or loopback address' }]);
    }
    const ok = (await as('POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/x', events: ['*'] })).json();
    const patched = await as('PATCH', `/api/v1/webhooks/${ok.id}`, { url: 'http://127.0.0.1/x' });
    expect(patched.statusCode).toBe(422);
  });
});

describe('real-time wake-up', () => {
  it('starts delivery within about a second of the event committing', async () => {
    const live = await createTestContext({ env: { TANDEM_WEBHOOKS_ALLOW_PRIVATE: '1' } });
    const receiver = new Receiver();
    await receiver.start();
    const stopWakeups = await startWebhookWakeups(live.services);
    try {
      const actor = await signupActor(live.app);
      const created = (await asKey(live.app, actor.apiKey)('POST', '/api/v1/webhooks', { url: receiver.url, events: ['*'] })).json();
      receiver.useSecret(created.secret);
      // Let the schedules' first (immediate) runs pass, so only the notification can wake the dispatcher.
      await live.services.queue.drain();
      live.services.queue.start();
      const started = Date.now();
      await withTransaction(live.pool, (client) => emitEvent(client, { workspaceId: actor.workspaceId, type: 'lead.created', data: { customerId: 'cus_9', externalId: 'c-9' } }));
      while (receiver.requests.length === 0 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(receiver.requests).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(receiver.requests[0]).toMatchObject({ signatureValid: true, body: { type: 'lead.created' } });
    } finally {
      await stopWakeups();
      await receiver.stop();
      await live.close();
    }
  });
});
