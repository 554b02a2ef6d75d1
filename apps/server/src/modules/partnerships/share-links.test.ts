import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';

const NOW = new Date('2030-03-20T12:00:00Z');
const DAY = 86_400_000;
let ctx: TestContext;

interface Brand {
  actor: Actor;
  api: ReturnType<typeof asKey>;
  programId: string;
}
async function brand(name: string): Promise<Brand> {
  const actor = await signupActor(ctx.app, { workspaceName: name, name: `${name} Owner` });
  const api = asKey(ctx.app, actor.apiKey);
  const program = await api('POST', '/api/v1/programs', {
    name: `${name} Program`, currency: 'USD', destinationUrl: `https://${actor.workspaceSlug}.example.com/`, status: 'active',
    rules: { sale: { type: 'percentage', amount: 10 } },
  });
  return { actor, api, programId: program.json().id };
}
const enrollmentOf = async (host: Brand, guest: Brand) => {
  const list = (await host.api('GET', `/api/v1/programs/${host.programId}/partners`)).json().data;
  return list.find((e: { partner: { email: string } }) => e.partner.email === guest.actor.email.toLowerCase());
};
const publicGet = (token: string) => ctx.app.inject({ method: 'GET', url: `/api/v1/public/partnership-dashboards/${token}` });

let a: Brand;
let b: Brand;
let partnershipId: string;
beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  a = await brand('Alpha Coffee');
  b = await brand('Beta Bakery');
  partnershipId = (await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: b.actor.workspaceSlug, programId: a.programId })).json().id;
  await b.api('POST', `/api/v1/partnerships/${partnershipId}/accept`, { programId: b.programId });

  // Beta promotes Alpha: 4 clicks yesterday, one 120.00 sale today; Alpha promotes Beta: 2 clicks today.
  const betaInAlpha = await enrollmentOf(a, b);
  const alphaInBeta = await enrollmentOf(b, a);
  const rollup = 'insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks) values ($1, $2, $3, $4, $5, $6)';
  await ctx.pool.query(rollup, [a.actor.workspaceId, betaInAlpha.link.id, new Date(NOW.getTime() - DAY), a.programId, betaInAlpha.partner.id, 4]);
  await ctx.pool.query(rollup, [b.actor.workspaceId, alphaInBeta.link.id, new Date('2030-03-20T09:00:00Z'), b.programId, alphaInBeta.partner.id, 2]);
  const sale = await a.api('POST', '/api/v1/track/sale', {
    customer: { externalId: 'secret-customer-77', email: 'buyer77@private.example.com', name: 'Private Buyer' },
    amount: 12_000, currency: 'USD', invoiceId: 'inv-share-1', couponCode: betaInAlpha.couponCode,
  });
  expect(sale.statusCode).toBe(200);
});
afterAll(async () => ctx?.close());

describe('share links of a partnership dashboard', () => {
  let token: string;
  let linkId: string;

  it('are created by a member admin, shown once and stored hashed', async () => {
    const res = await a.api('POST', `/api/v1/partnerships/${partnershipId}/share-links`, { expiresInDays: 7 });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({ id: expect.stringMatching(/^psl_/), token: expect.stringMatching(/^[\w-]{40,}$/), url: expect.stringMatching(/\/share\/[\w-]+$/), expiresAt: '2030-03-27T12:00:00.000Z' });
    expect(body.url.endsWith(`/share/${body.token}`)).toBe(true);
    token = body.token;
    linkId = body.id;
    const stored = await ctx.pool.query('select token_hash from partnership_share_links where id = $1', [linkId]);
    expect(stored.rows[0].token_hash).not.toBe(token);
    const list = (await a.api('GET', `/api/v1/partnerships/${partnershipId}/share-links`)).json();
    expect(list.data).toEqual([{ id: linkId, expiresAt: body.expiresAt, revokedAt: null, createdAt: NOW.toISOString() }]);
    expect(JSON.stringify(list)).not.toContain(token);
    const audit = await ctx.pool.query(`select count(*)::int as n from audit_log where workspace_id = $1 and action = 'partnership.share_link_created'`, [a.actor.workspaceId]);
    expect(audit.rows[0].n).toBe(1);
  });

  it('show the same balance both members see, and a daily series per direction', async () => {
    const res = await publicGet(token);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const dash = res.json();
    for (const side of [a, b]) {
      const balance = (await side.api('GET', `/api/v1/partnerships/${partnershipId}/balance`)).json();
      expect(dash.directions).toEqual(balance.directions);
      expect(dash.net).toEqual(balance.net);
    }
    expect(dash.members).toEqual([
      { workspaceId: a.actor.workspaceId, name: 'Alpha Coffee' },
      { workspaceId: b.actor.workspaceId, name: 'Beta Bakery' },
    ]);
    const betaToAlpha = dash.series.find((s: { fromWorkspaceId: string }) => s.fromWorkspaceId === b.actor.workspaceId);
    const alphaToBeta = dash.series.find((s: { fromWorkspaceId: string }) => s.fromWorkspaceId === a.actor.workspaceId);
    expect(betaToAlpha.points).toHaveLength(30);
    expect(betaToAlpha.points[0].date).toBe('2030-02-19');
    expect(betaToAlpha.points.at(-2)).toEqual({ date: '2030-03-19', clicks: 4, sales: 0, revenue: 0 });
    expect(betaToAlpha.points.at(-1)).toEqual({ date: '2030-03-20', clicks: 0, sales: 1, revenue: 12_000 });
    expect(alphaToBeta.points.at(-1)).toEqual({ date: '2030-03-20', clicks: 2, sales: 0, revenue: 0 });
    expect(dash.net).toMatchObject({ owedByWorkspaceId: a.actor.workspaceId, owedToWorkspaceId: b.actor.workspaceId, amount: 1200 });
  });

  it('reveal nothing beyond the dashboard: no customers, no emails, no links or coupons', async () => {
    const dash = (await publicGet(token)).json();
    expect(Object.keys(dash).sort()).toEqual(['directions', 'expiresAt', 'members', 'net', 'nets', 'partnershipId', 'series']);
    const raw = JSON.stringify(dash);
    for (const secret of ['secret-customer-77', 'buyer77', 'Private Buyer', a.actor.email, b.actor.email, '@', 'cus_', 'ptn_', 'lnk_', 'coupon']) expect(raw).not.toContain(secret);
  });

  it('stop working once revoked; revoking twice is fine; another workspace cannot revoke', async () => {
    const second = (await b.api('POST', `/api/v1/partnerships/${partnershipId}/share-links`, {})).json();
    expect((await a.api('DELETE', `/api/v1/partnerships/${partnershipId}/share-links/${second.id}`)).statusCode).toBe(404);
    expect((await publicGet(second.token)).statusCode).toBe(200);
    expect((await b.api('DELETE', `/api/v1/partnerships/${partnershipId}/share-links/${second.id}`)).statusCode).toBe(204);
    const revoked = await publicGet(second.token);
    expect(revoked.statusCode).toBe(404);
    expect(revoked.json().error.code).toBe('not_found');
    expect((await b.api('DELETE', `/api/v1/partnerships/${partnershipId}/share-links/${second.id}`)).statusCode).toBe(204);
    expect((await b.api('GET', `/api/v1/partnerships/${partnershipId}/share-links`)).json().data[0].revokedAt).toBe(NOW.toISOString());
    expect((await publicGet(token)).statusCode).toBe(200);
  });

  it('stop working when they expire', async () => {
    const short = (await a.api('POST', `/api/v1/partnerships/${partnershipId}/share-links`, { expiresInDays: 1 })).json();
    expect((await publicGet(short.token)).statusCode).toBe(200);
    ctx.clock.advance(DAY);
    expect((await publicGet(short.token)).statusCode).toBe(404);
    expect((await publicGet(token)).statusCode).toBe(200);
    ctx.clock.set(NOW);
  });

  it('answer 404 for an unknown token', async () => {
    expect((await publicGet('not-a-real-token')).statusCode).toBe(404);
  });

  it('validate the expiry', async () => {
    const res = await a.api('POST', `/api/v1/partnerships/${partnershipId}/share-links`, { expiresInDays: 0 });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details[0].path).toContain('expiresInDays');
    expect((await a.api('POST', `/api/v1/partnerships/${partnershipId}/share-links`, { expiresInDays: 5, extra: true })).statusCode).toBe(422);
  });

  it('cannot be made, listed or revoked by a workspace outside the partnership', async () => {
    const outsider = await brand('Gamma Outsider');
    expect((await outsider.api('POST', `/api/v1/partnerships/${partnershipId}/share-links`, {})).statusCode).toBe(404);
    expect((await outsider.api('GET', `/api/v1/partnerships/${partnershipId}/share-links`)).statusCode).toBe(404);
    expect((await outsider.api('DELETE', `/api/v1/partnerships/${partnershipId}/share-links/${linkId}`)).statusCode).toBe(404);
  });

  it('cannot be made by a brand that was invited but has not joined', async () => {
    const invited = await brand('Delta Invited');
    await a.api('POST', `/api/v1/partnerships/${partnershipId}/members`, { inviteWorkspaceSlug: invited.actor.workspaceSlug });
    const res = await invited.api('POST', `/api/v1/partnerships/${partnershipId}/share-links`, {});
    expect(res.statusCode).toBe(403);
  });
});
