import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';

let ctx: TestContext;

interface Brand {
  actor: Actor;
  api: ReturnType<typeof asKey>;
  programId: string;
}

async function brand(name: string, currency = 'USD'): Promise<Brand> {
  const actor = await signupActor(ctx.app, { workspaceName: name, name: `${name} Owner` });
  const api = asKey(ctx.app, actor.apiKey);
  const program = await api('POST', '/api/v1/programs', { name: `${name} Program`, currency, destinationUrl: `https://${actor.workspaceSlug}.example.com/`, terms: { text: `${name} terms` }, status: 'active' });
  return { actor, api, programId: program.json().id };
}

const partnerOf = async (host: Brand, guest: Brand) => {
  const list = (await host.api('GET', `/api/v1/programs/${host.programId}/partners`)).json().data;
  return list.find((e: { partner: { email: string } }) => e.partner.email === guest.actor.email.toLowerCase());
};

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

describe('a reciprocal partnership between two brands', () => {
  let a: Brand;
  let b: Brand;
  let partnershipId: string;
  beforeAll(async () => {
    a = await brand('Alpha Coffee');
    b = await brand('Beta Bakery');
  });

  it('is created by inviting the other brand by workspace slug', async () => {
    const res = await a.api('POST', '/api/v1/partnerships', {
      inviteWorkspaceSlug: b.actor.workspaceSlug,
      programId: a.programId,
      message: 'Cross-promote?',
      agreement: { targeting: 'locals', messagingGuidelines: 'friendly', metrics: ['clicks', 'referrals'], reciprocityTargetPct: 20 },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: expect.stringMatching(/^psh_/), status: 'invited', kind: 'pair', createdByWorkspaceId: a.actor.workspaceId, agreement: { reciprocityTargetPct: 20 } });
    partnershipId = res.json().id;
    const seenByB = (await b.api('GET', '/api/v1/partnerships')).json().data;
    expect(seenByB.map((p: { id: string }) => p.id)).toEqual([partnershipId]);
    expect(seenByB[0].members.map((m: { workspaceId: string; status: string }) => [m.workspaceId, m.status])).toEqual([
      [a.actor.workspaceId, 'active'],
      [b.actor.workspaceId, 'invited'],
    ]);
  });

  it('on acceptance leaves each brand an approved partner in the other’s program, with link and coupon', async () => {
    const res = await b.api('POST', `/api/v1/partnerships/${partnershipId}/accept`, { programId: b.programId });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'active', members: [{ status: 'active', program: { id: a.programId } }, { status: 'active', program: { id: b.programId } }] });
    const bInA = await partnerOf(a, b);
    expect(bInA).toMatchObject({ status: 'approved', partner: { name: 'Beta Bakery', isBrand: true }, couponCode: expect.stringMatching(/^BETABAKE\d+/), link: { shortUrl: expect.any(String) }, acceptedTermsVersion: 1 });
    const aInB = await partnerOf(b, a);
    expect(aInB).toMatchObject({ status: 'approved', partner: { name: 'Alpha Coffee', isBrand: true }, link: { shortUrl: expect.any(String) } });
    const stored = await ctx.pool.query('select partner_workspace_id from partners where workspace_id = $1 and id = $2', [a.actor.workspaceId, bInA.partner.id]);
    expect(stored.rows[0].partner_workspace_id).toBe(b.actor.workspaceId);
    const again = await b.api('POST', `/api/v1/partnerships/${partnershipId}/accept`, { programId: b.programId });
    expect(again.statusCode).toBe(409);
  });

  it('reports the balance to both sides: zeros first, then real clicks and netted commissions', async () => {
    const zero = (await a.api('GET', `/api/v1/partnerships/${partnershipId}/balance`)).json();
    expect(zero.directions).toHaveLength(2);
    expect(zero.directions.every((d: { clicks: number; commissions: number }) => d.clicks === 0 && d.commissions === 0)).toBe(true);
    expect(zero.net).toEqual({ owedByWorkspaceId: null, owedToWorkspaceId: null, amount: 0, currency: 'USD' });

    const bInA = await partnerOf(a, b);
    const aInB = await partnerOf(b, a);
    for (let i = 0; i < 3; i++) {
      await ctx.pool.query('insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at) values ($1, gen_random_uuid(), $2, $3, $4, now())', [a.actor.workspaceId, bInA.link.id, a.programId, bInA.partner.id]);
    }
    await ctx.pool.query('insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at) values ($1, gen_random_uuid(), $2, $3, $4, now())', [b.actor.workspaceId, aInB.link.id, b.programId, aInB.partner.id]);
    // The balance reads the hourly rollups the click writer keeps in step with the rows.
    const rollup = `insert into click_rollups (workspace_id, link_id, hour, program_id, partner_id, clicks) values ($1, $2, date_trunc('hour', now(), 'UTC'), $3, $4, $5)`;
    await ctx.pool.query(rollup, [a.actor.workspaceId, bInA.link.id, a.programId, bInA.partner.id, 3]);
    await ctx.pool.query(rollup, [b.actor.workspaceId, aInB.link.id, b.programId, aInB.partner.id, 1]);
    const hasCommissions = (await ctx.pool.query(`select to_regclass('public.commissions') is not null as ok`)).rows[0].ok;
    if (hasCommissions) {
      const insert = `insert into commissions (workspace_id, id, program_id, partner_id, key, kind, amount, currency, status, rules_version, occurred_at, payable_at)
                      values ($1, $2, $3, $4, $5, 'sale', $6, 'USD', 'payable', 1, now(), now())`;
      await ctx.pool.query(insert, [a.actor.workspaceId, 'com_test_a', a.programId, bInA.partner.id, 'sale:test-a', 1500]);
      await ctx.pool.query(insert, [b.actor.workspaceId, 'com_test_b', b.programId, aInB.partner.id, 'sale:test-b', 400]);
    }

    for (const side of [a, b]) {
      const res = await side.api('GET', `/api/v1/partnerships/${partnershipId}/balance`);
      expect(res.statusCode).toBe(200);
      const balance = res.json();
      const bToA = balance.directions.find((d: { fromWorkspaceId: string }) => d.fromWorkspaceId === b.actor.workspaceId);
      const aToB = balance.directions.find((d: { fromWorkspaceId: string }) => d.fromWorkspaceId === a.actor.workspaceId);
      expect(bToA).toMatchObject({ toWorkspaceId: a.actor.workspaceId, clicks: 3, currency: 'USD' });
      expect(aToB).toMatchObject({ toWorkspaceId: b.actor.workspaceId, clicks: 1 });
      expect(balance.reciprocity).toEqual([expect.objectContaining({ imbalancePct: 66.67, withinTarget: false })]);
      if (hasCommissions) {
        expect(bToA.commissions).toBe(1500);
        expect(aToB.commissions).toBe(400);
        // A owes B 1500, B owes A 400: A owes the difference.
        expect(balance.net).toEqual({ owedByWorkspaceId: a.actor.workspaceId, owedToWorkspaceId: b.actor.workspaceId, amount: 1100, currency: 'USD' });
      }
    }
  });

  it('answers a workspace outside the partnership with 404', async () => {
    const outsider = await brand('Gamma Outsider');
    expect((await outsider.api('GET', `/api/v1/partnerships/${partnershipId}`)).statusCode).toBe(404);
    expect((await outsider.api('GET', `/api/v1/partnerships/${partnershipId}/balance`)).statusCode).toBe(404);
    expect((await outsider.api('POST', `/api/v1/partnerships/${partnershipId}/accept`, { programId: outsider.programId })).statusCode).toBe(404);
    expect((await outsider.api('POST', `/api/v1/partnerships/${partnershipId}/members`, { inviteWorkspaceSlug: outsider.actor.workspaceSlug })).statusCode).toBe(404);
    expect((await outsider.api('GET', '/api/v1/partnerships')).json().data).toEqual([]);
  });
});

describe('invitations', () => {
  it('invites by the owner’s email', async () => {
    const a = await brand('Email Inviter');
    const b = await brand('Email Invitee');
    const res = await a.api('POST', '/api/v1/partnerships', { inviteEmail: b.actor.email, programId: a.programId });
    expect(res.statusCode).toBe(201);
    expect(res.json().members[1].workspaceId).toBe(b.actor.workspaceId);
  });

  it('refuses unknown brands, oneself, ambiguous invitees and another workspace’s program', async () => {
    const a = await brand('Careful Inviter');
    const b = await brand('Someone Else');
    const unknown = await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: 'no-such-brand', programId: a.programId });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().error.details[0].path).toBe('inviteWorkspaceSlug');
    expect((await a.api('POST', '/api/v1/partnerships', { inviteEmail: 'nobody@example.com', programId: a.programId })).statusCode).toBe(422);
    expect((await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: a.actor.workspaceSlug, programId: a.programId })).statusCode).toBe(422);
    expect((await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: b.actor.workspaceSlug, inviteEmail: b.actor.email, programId: a.programId })).statusCode).toBe(422);
    expect((await a.api('POST', '/api/v1/partnerships', { programId: a.programId })).statusCode).toBe(422);
    expect((await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: b.actor.workspaceSlug, programId: b.programId })).statusCode).toBe(404);
    const created = (await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: b.actor.workspaceSlug, programId: a.programId })).json();
    expect((await b.api('POST', `/api/v1/partnerships/${created.id}/accept`, { programId: a.programId })).statusCode).toBe(404);
  });

  it('lets the invited brand decline, after which it cannot accept', async () => {
    const a = await brand('Decline Inviter');
    const b = await brand('Decliner');
    const created = (await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: b.actor.workspaceSlug, programId: a.programId })).json();
    const declined = await b.api('POST', `/api/v1/partnerships/${created.id}/decline`);
    expect(declined.statusCode).toBe(200);
    expect(declined.json().members[1].status).toBe('declined');
    expect((await b.api('POST', `/api/v1/partnerships/${created.id}/accept`, { programId: b.programId })).statusCode).toBe(409);
    expect(await partnerOf(a, b)).toBeUndefined();
    // Neither invited nor declined, a brand sees the partnership's figures only once it joined.
    expect((await b.api('GET', `/api/v1/partnerships/${created.id}/balance`)).statusCode).toBe(403);
  });

  it("shows an invited brand the partnership, but not the members' figures until it joins", async () => {
    const a = await brand('Figures Host');
    const b = await brand('Figures Guest');
    const c = await brand('Figures Newcomer');
    const created = (await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: b.actor.workspaceSlug, programId: a.programId })).json();
    expect((await b.api('POST', `/api/v1/partnerships/${created.id}/accept`, { programId: b.programId })).statusCode).toBe(200);
    expect((await a.api('POST', `/api/v1/partnerships/${created.id}/members`, { inviteWorkspaceSlug: c.actor.workspaceSlug })).statusCode).toBe(201);
    expect((await c.api('GET', `/api/v1/partnerships/${created.id}`)).statusCode).toBe(200);
    expect((await c.api('GET', `/api/v1/partnerships/${created.id}/balance`)).statusCode).toBe(403);
    expect((await a.api('GET', `/api/v1/partnerships/${created.id}/balance`)).statusCode).toBe(200);
  });
});

describe('a coalition of three brands', () => {
  it('enrolls every member in every other member’s program and balances all six directions', async () => {
    const a = await brand('Main Street Books');
    const b = await brand('Main Street Cafe');
    const c = await brand('Main Street Florist', 'EUR');
    const created = (await a.api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: b.actor.workspaceSlug, programId: a.programId })).json();
    await b.api('POST', `/api/v1/partnerships/${created.id}/accept`, { programId: b.programId });
    const invited = await b.api('POST', `/api/v1/partnerships/${created.id}/members`, { inviteWorkspaceSlug: c.actor.workspaceSlug });
    expect(invited.statusCode).toBe(201);
    expect(invited.json().kind).toBe('coalition');
    const duplicate = await a.api('POST', `/api/v1/partnerships/${created.id}/members`, { inviteWorkspaceSlug: c.actor.workspaceSlug });
    expect(duplicate.statusCode).toBe(409);
    const joined = await c.api('POST', `/api/v1/partnerships/${created.id}/accept`, { programId: c.programId });
    expect(joined.json().members.map((m: { status: string }) => m.status)).toEqual(['active', 'active', 'active']);
    for (const [host, guest] of [[a, b], [a, c], [b, a], [b, c], [c, a], [c, b]] as const) {
      expect((await partnerOf(host, guest))?.status).toBe('approved');
    }
    const balance = (await c.api('GET', `/api/v1/partnerships/${created.id}/balance`)).json();
    expect(balance.directions).toHaveLength(6);
    // Never netted across currencies: the EUR program of C gives each of its pairs a second net.
    expect(balance.nets.map((n: { currency: string }) => n.currency).sort()).toEqual(['EUR', 'EUR', 'USD', 'USD', 'USD']);
  });
});
