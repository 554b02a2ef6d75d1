import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import type { LightMyRequestResponse } from 'fastify';
import { asKey, cookieHeader, createTestContext, signupActor, uniqueEmail, type Actor, type TestContext } from '../../test/harness.js';
import { TERMS_GRACE_QUEUE } from '../partners/terms-grace.js';
import { termsVersionForCommission } from '../partners/terms-version.js';
import { verifyPortalEmailForTest } from './test-support.js';

// Far enough ahead that the hourly session clean-up (which uses the database clock) keeps test sessions.
const start = new Date('2030-06-10T09:00:00Z');
const DAY = 86_400_000;

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let program: { id: string; slug: string };
beforeAll(async () => {
  ctx = await createTestContext({ now: start });
  brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
  api = asKey(ctx.app, brand.apiKey);
  program = (
    await api('POST', '/api/v1/programs', {
      name: 'Acme Riders',
      slug: 'acme-riders',
      currency: 'USD',
      destinationUrl: 'https://acme.example.com/',
      terms: { text: 'Terms version one' },
      termsGraceDays: 14,
      payoutThreshold: 2500,
      rules: { sale: { type: 'percentage', amount: 10 }, qualification: { holdDays: 30, minSaleAmount: 0 } },
      status: 'active',
    })
  ).json();
});
afterAll(async () => ctx?.close());

interface Partner {
  email: string;
  userId: string;
  get(url: string): Promise<LightMyRequestResponse>;
  post(url: string, payload?: object): Promise<LightMyRequestResponse>;
}

/** A partner account whose email is verified (what every test here but the unverified one needs). */
async function portalSignup(email: string): Promise<Partner> {
  const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/signup', payload: { email, password: 'partner password', name: 'Pat Partner' } });
  expect(res.statusCode).toBe(201);
  const cookie = cookieHeader(res);
  const csrf = res.json().csrfToken;
  await verifyPortalEmailForTest(ctx, { userId: res.json().user.id, email, cookie, csrf });
  return {
    email,
    userId: res.json().user.id,
    get: (url) => ctx.app.inject({ method: 'GET', url, headers: { cookie } }),
    post: (url, payload) => ctx.app.inject({ method: 'POST', url, headers: { cookie, 'x-csrf-token': csrf }, ...(payload ? { payload } : {}) }),
  };
}

const addPartner = async (email: string) => (await api('POST', `/api/v1/programs/${program.id}/partners`, { email, name: 'Pat Partner' })).json();

describe('portal signup and enrollments', () => {
  it('creates a workspace-less account that sees its enrollments across brands', async () => {
    const email = uniqueEmail('pat');
    const added = await addPartner(email);
    const otherBrand = await signupActor(ctx.app, { workspaceName: 'Other Brand' });
    const otherProgram = (await asKey(ctx.app, otherBrand.apiKey)('POST', '/api/v1/programs', { name: 'Other', currency: 'EUR', destinationUrl: 'https://other.example.com/' })).json();
    await asKey(ctx.app, otherBrand.apiKey)('POST', `/api/v1/programs/${otherProgram.id}/partners`, { email, name: 'Pat at Other' });
    const partner = await portalSignup(email);
    const me = await partner.get('/api/v1/me');
    expect(me.statusCode).toBe(403);
    const list = await partner.get('/api/v1/portal/enrollments');
    expect(list.statusCode).toBe(200);
    const data = list.json().data;
    expect(data.map((e: { brand: { name: string } }) => e.brand.name).sort()).toEqual(['Acme Bikes', 'Other Brand']);
    const acme = data.find((e: { id: string }) => e.id === added.enrollment.id);
    expect(acme).toMatchObject({
      program: { id: program.id, name: 'Acme Riders', slug: 'acme-riders' },
      status: 'approved',
      couponCode: added.enrollment.couponCode,
      links: [{ id: added.link.id, shortUrl: added.link.shortUrl, isDefault: true }],
      terms: { currentVersion: 1, acceptedVersion: 1, needsAcceptance: false, earningUnderVersion: 1, graceEndsAt: null },
    });
    const linked = await ctx.pool.query('select count(*)::int as n from partners where user_id = $1', [partner.userId]);
    expect(linked.rows[0].n).toBe(2);
  });

  it('shows enrollments a brand adds after the partner signed up', async () => {
    const email = uniqueEmail('early');
    const partner = await portalSignup(email);
    expect((await partner.get('/api/v1/portal/enrollments')).json().data).toEqual([]);
    const added = await addPartner(email);
    expect((await partner.get('/api/v1/portal/enrollments')).json().data.map((e: { id: string }) => e.id)).toEqual([added.enrollment.id]);
  });

  it('refuses a taken email with 409 and an API key on portal endpoints with 403', async () => {
    const email = uniqueEmail();
    await portalSignup(email);
    const again = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/signup', payload: { email, password: 'partner password', name: 'X' } });
    expect(again.statusCode).toBe(409);
    expect((await api('GET', '/api/v1/portal/enrollments')).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/portal/enrollments' })).statusCode).toBe(401);
  });

  it('answers another partner’s enrollment with 404 everywhere', async () => {
    const added = await addPartner(uniqueEmail('owner-of-enrollment'));
    const nosy = await portalSignup(uniqueEmail('nosy'));
    const id = added.enrollment.id;
    expect((await nosy.post(`/api/v1/portal/enrollments/${id}/accept-terms`)).statusCode).toBe(404);
    expect((await nosy.get(`/api/v1/portal/enrollments/${id}/welcome-kit`)).statusCode).toBe(404);
    expect((await nosy.get(`/api/v1/portal/enrollments/${id}/milestones`)).statusCode).toBe(404);
    expect((await nosy.get(`/api/v1/portal/enrollments/${id}/calendar.ics`)).statusCode).toBe(404);
    expect((await nosy.get('/api/v1/portal/enrollments')).json().data).toEqual([]);
  });
});

describe('terms re-acceptance', () => {
  it('asks for re-acceptance, keeps earning under the old version during the grace, pauses after it and reinstates on acceptance', async () => {
    ctx.clock.set(start);
    const isolated = await signupActor(ctx.app, { workspaceName: 'Terms Brand' });
    const brandApi = asKey(ctx.app, isolated.apiKey);
    const p = (await brandApi('POST', '/api/v1/programs', { name: 'Terms Program', currency: 'USD', destinationUrl: 'https://terms.example.com/', terms: { text: 'v1' }, termsGraceDays: 14, status: 'active' })).json();
    const email = uniqueEmail('terms');
    const added = (await brandApi('POST', `/api/v1/programs/${p.id}/partners`, { email, name: 'Terry' })).json();
    const partner = await portalSignup(email);
    const enrollmentUrl = `/api/v1/portal/enrollments/${added.enrollment.id}`;
    const current = async () => {
      const res = await partner.get('/api/v1/portal/enrollments');
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data.find((e: { id: string }) => e.id === added.enrollment.id);
    };

    ctx.clock.advance(1 * DAY);
    await brandApi('PATCH', `/api/v1/programs/${p.id}`, { terms: { text: 'v2: new rules for coupons' } });
    expect((await current()).terms).toEqual({
      currentVersion: 2,
      acceptedVersion: 1,
      acceptedAt: start.toISOString(),
      needsAcceptance: true,
      graceEndsAt: new Date(start.getTime() + 15 * DAY).toISOString(),
      earningUnderVersion: 1,
    });
    const commissionKey = { workspaceId: isolated.workspaceId, programId: p.id, partnerId: added.partner.id };
    expect(await termsVersionForCommission(ctx.pool, commissionKey, ctx.clock.now)).toBe(1);

    // Inside the grace period the job leaves the enrollment alone.
    ctx.clock.advance(13 * DAY);
    await ctx.services.queue.enqueue(TERMS_GRACE_QUEUE);
    await ctx.services.queue.drain();
    expect((await current()).status).toBe('approved');

    ctx.clock.advance(1 * DAY + 1000);
    await ctx.services.queue.enqueue(TERMS_GRACE_QUEUE);
    await ctx.services.queue.drain();
    expect(await current()).toMatchObject({ status: 'suspended', statusReason: 'terms_not_accepted', terms: { earningUnderVersion: null } });
    expect(await termsVersionForCommission(ctx.pool, commissionKey, ctx.clock.now)).toBeNull();

    const accepted = await partner.post(`${enrollmentUrl}/accept-terms`);
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ status: 'approved', terms: { currentVersion: 2, acceptedVersion: 2, needsAcceptance: false, earningUnderVersion: 2 } });
    expect(await termsVersionForCommission(ctx.pool, commissionKey, ctx.clock.now)).toBe(2);
    const stored = await ctx.pool.query('select accepted_terms_ip_hash, accepted_terms_at from enrollments where id = $1', [added.enrollment.id]);
    expect(stored.rows[0].accepted_terms_ip_hash).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(stored.rows[0].accepted_terms_at.toISOString()).toBe(ctx.clock.now.toISOString());

    const events = (await brandApi('GET', `/api/v1/enrollments/${added.enrollment.id}/events`)).json().data;
    expect(events.map((e: { toStatus: string; reason: string; actor: string }) => [e.toStatus, e.reason, e.actor.split(':')[0]])).toEqual([
      ['approved', 'added by the brand', expect.stringMatching(/^key_/)],
      ['suspended', 'terms_not_accepted', 'system'],
      ['approved', 'terms accepted', 'partner'],
    ]);
  });

  it('does not reinstate an enrollment suspended by the brand for another reason', async () => {
    const email = uniqueEmail('suspended');
    const added = await addPartner(email);
    await api('POST', `/api/v1/enrollments/${added.enrollment.id}/status`, { status: 'suspended', reason: 'fraud review' });
    const partner = await portalSignup(email);
    const res = await partner.post(`/api/v1/portal/enrollments/${added.enrollment.id}/accept-terms`);
    expect(res.json()).toMatchObject({ status: 'suspended', statusReason: 'fraud review' });
  });
});

describe('onboarding', () => {
  it('hands out a welcome kit with program summary, links, coupon, terms and milestones', async () => {
    ctx.clock.set(start);
    const email = uniqueEmail('kit');
    const added = await addPartner(email);
    const partner = await portalSignup(email);
    const kit = await partner.get(`/api/v1/portal/enrollments/${added.enrollment.id}/welcome-kit`);
    expect(kit.statusCode).toBe(200);
    expect(kit.json()).toMatchObject({
      enrollmentId: added.enrollment.id,
      program: { name: 'Acme Riders', brand: 'Acme Bikes', currency: 'USD', rules: { sale: { type: 'percentage', amount: 10 } }, payoutThreshold: 2500 },
      status: 'approved',
      couponCode: added.enrollment.couponCode,
      links: [{ shortUrl: added.link.shortUrl }],
      terms: { version: 1, text: 'Terms version one' },
      assets: [],
    });
    const milestones = kit.json().milestones;
    expect(milestones.map((m: { id: string; date: string }) => [m.id, m.date])).toEqual([
      ['first-link-shared', '2030-06-17'],
      ['first-referral', '2030-07-10'],
      ['first-payout-threshold', '2030-09-08'],
      ['quarterly-review-2030-q2', '2030-07-01'],
      ['quarterly-review-2030-q3', '2030-10-01'],
      ['quarterly-review-2030-q4', '2031-01-01'],
      ['quarterly-review-2031-q1', '2031-04-01'],
    ]);
    expect(milestones[2].title).toContain('25.00 USD');
    const json = await partner.get(`/api/v1/portal/enrollments/${added.enrollment.id}/milestones`);
    expect(json.json().data).toEqual(milestones);
  });

  it('marks "first link shared" achieved at the first click', async () => {
    const email = uniqueEmail('clicker');
    const added = await addPartner(email);
    const clickedAt = new Date('2030-06-12T08:00:00Z');
    await ctx.pool.query(
      'insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at) values ($1, gen_random_uuid(), $2, $3, $4, $5)',
      [brand.workspaceId, added.link.id, program.id, added.partner.id, clickedAt],
    );
    const kit = (await api('GET', `/api/v1/enrollments/${added.enrollment.id}/welcome-kit`)).json();
    expect(kit.milestones[0]).toMatchObject({ id: 'first-link-shared', achievedAt: clickedAt.toISOString() });
    expect(kit.milestones[1].achievedAt).toBeNull();
  });

  it('exports the milestone calendar as iCalendar that ical.js parses', async () => {
    const email = uniqueEmail('ics');
    const added = await addPartner(email);
    const partner = await portalSignup(email);
    const res = await partner.get(`/api/v1/portal/enrollments/${added.enrollment.id}/calendar.ics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    expect(res.headers['content-disposition']).toContain('acme-riders-milestones.ics');
    expect(res.body.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
    const calendar = new ICAL.Component(ICAL.parse(res.body));
    const events = calendar.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
    expect(events).toHaveLength(7);
    expect(events[0]!.uid).toBe(`first-link-shared.${added.enrollment.id}@tandem`);
    expect(events[0]!.summary).toBe('Share your Acme Riders link');
    expect(events[0]!.startDate.toString()).toBe('2030-06-17');
    expect(events.every((e) => e.component.getFirstPropertyValue('dtstamp') !== null)).toBe(true);
    const brandSide = await api('GET', `/api/v1/enrollments/${added.enrollment.id}/calendar.ics`);
    expect(brandSide.statusCode).toBe(200);
    expect(new ICAL.Component(ICAL.parse(brandSide.body)).getAllSubcomponents('vevent')).toHaveLength(7);
  });

  it('answers another workspace’s welcome kit and calendar with 404', async () => {
    const added = await addPartner(uniqueEmail());
    const other = asKey(ctx.app, (await signupActor(ctx.app)).apiKey);
    expect((await other('GET', `/api/v1/enrollments/${added.enrollment.id}/welcome-kit`)).statusCode).toBe(404);
    expect((await other('GET', `/api/v1/enrollments/${added.enrollment.id}/calendar.ics`)).statusCode).toBe(404);
  });
});
