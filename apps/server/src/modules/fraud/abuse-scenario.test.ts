import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickIdFromUuid, uuidv7 } from '@tandem/core';
import { asKey, createTestContext, signupActor, uniqueEmail, type Actor, type TestContext } from '../../test/harness.js';
import { withTransaction } from '../../db/tx.js';
import { holdAllPending } from './reviews.js';

/*
 * A scripted abuse scenario over HTTP: a self-referral, a click farm from one IP converting
 * within seconds, and honest traffic next to them. Clicks are written as the redirect records
 * them (keyed IP and visitor hashes), so the scenario controls their times exactly.
 */

const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const MIN = 60_000;

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let programId: string;
interface TestPartner { partnerId: string; linkId: string; email: string }
let honest: TestPartner;
let selfReferrer: TestPartner;
let farmer: TestPartner;

async function addPartner(name: string): Promise<TestPartner> {
  const email = uniqueEmail(name);
  const res = await api('POST', `/api/v1/programs/${programId}/partners`, { email, name });
  expect(res.statusCode).toBe(201);
  return { partnerId: res.json().partner.id, linkId: res.json().link.id, email: email.toLowerCase() };
}

async function click(partner: TestPartner, at: Date, visitor: { ip: string; device?: string; paidParam?: string }): Promise<string> {
  const uuid = uuidv7(at.getTime());
  await ctx.pool.query(
    `insert into clicks (workspace_id, id, link_id, program_id, partner_id, created_at, ip_hash, visitor_hash, paid_click_param) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [brand.workspaceId, uuid, partner.linkId, programId, partner.partnerId, at, `ip:${visitor.ip}`, `dev:${visitor.device ?? visitor.ip}`, visitor.paidParam ?? null],
  );
  return clickIdFromUuid(uuid);
}

let invoice = 0;
async function sale(clickId: string, at: Date, customer: { externalId: string; email?: string }) {
  invoice += 1;
  const res = await api('POST', '/api/v1/track/sale', { customer, amount: 10_000, currency: 'USD', invoiceId: `INV-${invoice}`, clickId, occurredAt: at.toISOString() });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { sale: { id: string }; attributed: boolean; partnerId: string; commission?: { id: string; amount: number; status: string } };
}

const results: Record<string, Awaited<ReturnType<typeof sale>>[]> = { honest: [], selfReferral: [], farm: [], weakAlone: [] };

beforeAll(async () => {
  ctx = await createTestContext({ now: NOW });
  brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
  api = asKey(ctx.app, brand.apiKey);
  const program = await api('POST', '/api/v1/programs', { name: 'Acme Partners', currency: 'USD', destinationUrl: 'https://acme.example.com/', rules: { sale: { type: 'percentage', amount: 10 } } });
  expect(program.statusCode).toBe(201);
  programId = program.json().id;
  honest = await addPartner('Hana');
  selfReferrer = await addPartner('Sam');
  farmer = await addPartner('Finn');

  // Honest traffic: different visitors, buying an hour or more after their click.
  for (let i = 0; i < 4; i++) {
    const clickAt = new Date(NOW.getTime() - (180 - i * 10) * MIN);
    const clickId = await click(honest, clickAt, { ip: `198.51.100.${i}` });
    results.honest!.push(await sale(clickId, new Date(clickAt.getTime() + 65 * MIN), { externalId: `honest-${i}`, email: `buyer${i}@example.com` }));
  }
  // Self-referral: the partner buys through its own link with its own email.
  const ownClick = await click(selfReferrer, new Date(NOW.getTime() - 120 * MIN), { ip: '203.0.113.50' });
  results.selfReferral!.push(await sale(ownClick, new Date(NOW.getTime() - 60 * MIN), { externalId: 'sam-himself', email: selfReferrer.email.toUpperCase() }));
  // A click farm: 30 clicks from one IP within half an hour, three "customers" buying seconds after a click.
  const farmStart = NOW.getTime() - 40 * MIN;
  const farmClicks: string[] = [];
  for (let i = 0; i < 30; i++) farmClicks.push(await click(farmer, new Date(farmStart + i * MIN), { ip: '192.0.2.66' }));
  for (let i = 0; i < 3; i++) {
    const clickAt = farmStart + (27 + i) * MIN;
    results.farm!.push(await sale(farmClicks[27 + i]!, new Date(clickAt + 3000), { externalId: `farm-${i}`, email: `x${i}@example.net` }));
  }
  // One weak signal alone (an instant conversion from an ordinary visitor) does not hold.
  const quick = await click(honest, new Date(NOW.getTime() - 30 * MIN), { ip: '198.51.100.200' });
  results.weakAlone!.push(await sale(quick, new Date(NOW.getTime() - 30 * MIN + 4000), { externalId: 'quick-buyer' }));
});
afterAll(async () => ctx?.close());

const queue = async (query = '') => (await api('GET', `/api/v1/reviews?programId=${programId}${query}`)).json();

describe('the abuse scenario', () => {
  it('holds the self-referral and every farm conversion, and reports them held in the tracking response', () => {
    expect(results.selfReferral!.map((r) => r.commission?.status)).toEqual(['held']);
    expect(results.farm!.map((r) => r.commission?.status)).toEqual(['held', 'held', 'held']);
  });

  it('leaves honest traffic untouched, including a single weak signal', async () => {
    expect([...results.honest!, ...results.weakAlone!].map((r) => r.commission?.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    const { rows } = await ctx.pool.query(`select status from commissions where workspace_id = $1 and partner_id = $2`, [brand.workspaceId, honest.partnerId]);
    expect(rows.map((r) => r.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    const quickId = results.weakAlone![0]!.commission!.id;
    const { rows: assessed } = await ctx.pool.query(`select score, review from fraud_assessments where workspace_id = $1 and commission_id = $2`, [brand.workspaceId, quickId]);
    expect(assessed[0]).toEqual({ score: 30, review: 'none' });
    // Not held, yet still explainable: the one signal is on record.
    const risk = (await api('GET', `/api/v1/reviews/${quickId}`)).json();
    expect(risk).toMatchObject({ commissionId: quickId, score: 30, review: 'none', heldBy: null, commissionStatus: 'pending', signals: [{ type: 'instant_conversion', weight: 30 }] });
    const untouched = (await api('GET', `/api/v1/reviews/${results.honest![0]!.commission!.id}`)).json();
    expect(untouched).toMatchObject({ score: 0, signals: [] });
    expect((await api('GET', '/api/v1/reviews/com_00000000000000000000000000')).statusCode).toBe(404);
  });

  it('explains every hold in the review queue with the rules that fired and their evidence', async () => {
    const body = await queue('&limit=100');
    const byPartner = (id: string) => body.data.filter((i: { partnerId: string }) => i.partnerId === id);
    expect(body.data).toHaveLength(4);
    expect(byPartner(honest.partnerId)).toEqual([]);
    const [selfHeld] = byPartner(selfReferrer.partnerId);
    expect(selfHeld).toMatchObject({ commissionStatus: 'held', score: 100, heldBy: 'score', review: 'pending', amount: 1000, currency: 'USD' });
    expect(selfHeld.signals).toEqual([{ type: 'self_referral', weight: 100, strong: true, summary: "The customer's email is the partner's own", evidence: { matched: 'email_hash', emailHash: expect.any(String) } }]);
    const farmHeld = byPartner(farmer.partnerId);
    expect(farmHeld).toHaveLength(3);
    for (const item of farmHeld) {
      const types = item.signals.map((s: { type: string }) => s.type);
      expect(types).toEqual(expect.arrayContaining(['click_velocity', 'instant_conversion']));
      expect(item.score).toBeGreaterThanOrEqual(60);
      const velocity = item.signals.find((s: { type: string }) => s.type === 'click_velocity');
      expect(velocity.evidence.clicksFromIp).toBeGreaterThan(20);
      expect(item.signals.find((s: { type: string }) => s.type === 'instant_conversion').evidence).toEqual({ clickToConversionSeconds: 3, minSeconds: 10 });
    }
    // By the third farm customer, three customers share one IP: duplicate identities fire as well.
    expect(farmHeld.some((i: { signals: { type: string }[] }) => i.signals.some((s) => s.type === 'duplicate_identity'))).toBe(true);
  });

  it('scores the partners: the farmer has held commissions, the honest partner none', async () => {
    const farmRisk = (await api('GET', `/api/v1/partners/${farmer.partnerId}/risk?programId=${programId}`)).json();
    expect(farmRisk).toMatchObject({ heldCommissions: 3, conversionsAssessed: 3 });
    expect(farmRisk.averageConversionScore).toBeGreaterThanOrEqual(60);
    const honestRisk = (await api('GET', `/api/v1/partners/${honest.partnerId}/risk?programId=${programId}`)).json();
    expect(honestRisk).toMatchObject({ score: 0, heldCommissions: 0, conversionsAssessed: 5 });
  });
});

describe('reviewing held commissions', () => {
  it('releases a hold into the normal lifecycle with a reason, once', async () => {
    const id = results.selfReferral![0]!.commission!.id;
    const res = await api('POST', `/api/v1/reviews/${id}/release`, { reason: 'Sam bought a gift for a friend; verified' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ commissionId: id, commissionStatus: 'pending', review: 'released', reviewReason: 'Sam bought a gift for a friend; verified' });
    expect((await api('POST', `/api/v1/reviews/${id}/release`, { reason: 'again' })).statusCode).toBe(409);
    expect((await queue('&status=released')).data.map((i: { commissionId: string }) => i.commissionId)).toEqual([id]);
    const audit = await ctx.pool.query(`select action, actor_kind, after from audit_log where workspace_id = $1 and target_id = $2`, [brand.workspaceId, id]);
    expect(audit.rows).toEqual([{ action: 'commission.hold_released', actor_kind: 'api_key', after: { review: 'released', reason: 'Sam bought a gift for a friend; verified' } }]);
  });

  it('rejects a hold, which reverses the commission', async () => {
    const id = results.farm![0]!.commission!.id;
    const res = await api('POST', `/api/v1/reviews/${id}/reject`, { reason: 'Click farm' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ commissionStatus: 'reversed', review: 'rejected' });
  });

  it('decides in bulk, each commission on its own', async () => {
    const ids = results.farm!.slice(1).map((r) => r.commission!.id);
    const honestId = results.honest![0]!.commission!.id;
    const res = await api('POST', '/api/v1/reviews/bulk', { commissionIds: [...ids, honestId, 'com_00000000000000000000000000'], action: 'reject', reason: 'Click farm' });
    expect(res.statusCode).toBe(200);
    expect(res.json().results).toEqual([
      { commissionId: ids[0], ok: true },
      { commissionId: ids[1], ok: true },
      { commissionId: honestId, ok: false, error: expect.stringContaining('review queue') },
      { commissionId: 'com_00000000000000000000000000', ok: false, error: expect.any(String) },
    ]);
    const { rows } = await ctx.pool.query(`select status from commissions where workspace_id = $1 and id = any($2)`, [brand.workspaceId, ids]);
    expect(rows.map((r) => r.status)).toEqual(['reversed', 'reversed']);
    expect((await queue()).data).toEqual([]);
  });

  it('validates decisions and hides the queue from other workspaces and partners', async () => {
    const id = results.honest![1]!.commission!.id;
    expect((await api('POST', `/api/v1/reviews/${id}/release`, {})).statusCode).toBe(422);
    expect((await api('POST', '/api/v1/reviews/bulk', { commissionIds: [], action: 'ban', reason: 'x' })).json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(['action', 'commissionIds']);
    const other = await signupActor(ctx.app);
    const otherApi = asKey(ctx.app, other.apiKey);
    expect((await otherApi('GET', '/api/v1/reviews?status=rejected')).json().data).toEqual([]);
    expect((await otherApi('GET', `/api/v1/reviews/${results.farm![0]!.commission!.id}`)).statusCode).toBe(404);
    expect((await otherApi('POST', `/api/v1/reviews/${results.farm![0]!.commission!.id}/release`, { reason: 'x' })).statusCode).toBe(404);
    expect((await otherApi('GET', `/api/v1/partners/${farmer.partnerId}/risk`)).statusCode).toBe(404);
    // A partner signed in to the portal has no workspace: signals and risk are not for it.
    const partnerUser = await signupActor(ctx.app);
    await ctx.pool.query('update partners set user_id = $1 where workspace_id = $2 and id = $3', [partnerUser.userId, brand.workspaceId, farmer.partnerId]);
    const asPartner = (url: string) => ctx.app.inject({ method: 'GET', url, headers: { cookie: partnerUser.cookie } });
    expect((await asPartner('/api/v1/reviews?status=rejected')).json().data).toEqual([]);
    expect((await asPartner(`/api/v1/partners/${farmer.partnerId}/risk`)).statusCode).toBe(404);
  });

  it('holds everything not yet paid out of a banned partner and queues it', async () => {
    const held = await withTransaction(ctx.pool, (client) => holdAllPending(client, ctx.services, { workspaceId: brand.workspaceId, partnerId: honest.partnerId, reason: 'Partner banned' }));
    expect(held).toHaveLength(5);
    const items = (await queue(`&partnerId=${honest.partnerId}`)).data;
    expect(items).toHaveLength(5);
    expect(items.every((i: { heldBy: string; commissionStatus: string }) => i.heldBy === 'ban' && i.commissionStatus === 'held')).toBe(true);
  });

  it('keeps the ledger verifiable through holds, releases and reversals', async () => {
    const res = await api('GET', '/api/v1/ledger/verify');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true });
  });
});

describe('per-program settings drive the scoring', () => {
  it('holds a paid-ad click only where the program forbids paid search, and a self-referred lead too', async () => {
    const strict = (await api('POST', '/api/v1/programs', {
      name: 'No paid search', currency: 'USD', destinationUrl: 'https://acme.example.com/', rules: { lead: { type: 'flat', amount: 500 }, sale: { type: 'percentage', amount: 10 } },
    })).json().id;
    const res = await api('PUT', `/api/v1/programs/${strict}/fraud-settings`, { rules: { paid_ad_click: { forbidPaidSearch: true } } });
    expect(res.statusCode).toBe(200);
    const email = uniqueEmail('Gus');
    const added = (await api('POST', `/api/v1/programs/${strict}/partners`, { email, name: 'Gus' })).json();
    const gus = { partnerId: added.partner.id, linkId: added.link.id, email: email.toLowerCase() };
    const previousProgram = programId;
    programId = strict;
    try {
      const adClick = await click(gus, new Date(NOW.getTime() - 120 * MIN), { ip: '198.51.100.77', paidParam: 'gclid' });
      const held = await sale(adClick, new Date(NOW.getTime() - 60 * MIN), { externalId: 'ad-buyer' });
      expect(held.commission?.status).toBe('held');
      const [item] = (await queue()).data;
      expect(item.signals).toEqual([expect.objectContaining({ type: 'paid_ad_click', evidence: { param: 'gclid' } })]);

      const leadClick = await click(gus, new Date(NOW.getTime() - 90 * MIN), { ip: '198.51.100.78' });
      const lead = await api('POST', '/api/v1/track/lead', { clickId: leadClick, customer: { externalId: 'gus-himself', email: gus.email } });
      expect(lead.statusCode, lead.body).toBe(200);
      expect(lead.json().commission).toMatchObject({ amount: 500, status: 'held' });

      // Gus turns out to be paid to the same account as the click farmer: his next sale is held on that alone.
      const account = 'NL91 ABNA 0417 1643 00';
      expect((await api('POST', `/api/v1/partners/${farmer.partnerId}/payout-identities`, { details: account })).statusCode).toBe(204);
      expect((await api('POST', `/api/v1/partners/${gus.partnerId}/payout-identities`, { details: account })).statusCode).toBe(204);
      const laterClick = await click(gus, new Date(NOW.getTime() - 100 * MIN), { ip: '198.51.100.80' });
      const shared = await sale(laterClick, new Date(NOW.getTime() - 30 * MIN), { externalId: 'gus-customer' });
      expect(shared.commission?.status).toBe('held');
      const sharedItem = (await queue()).data.find((i: { commissionId: string }) => i.commissionId === shared.commission!.id);
      expect(sharedItem.signals).toEqual([expect.objectContaining({ type: 'shared_payout_details', strong: true, evidence: { partnerIds: [farmer.partnerId] } })]);
    } finally {
      programId = previousProgram;
    }
    // The first program allows paid search: the same click there is not even a signal.
    const organic = await click(honest, new Date(NOW.getTime() - 120 * MIN), { ip: '198.51.100.79', paidParam: 'gclid' });
    expect((await sale(organic, new Date(NOW.getTime() - 60 * MIN), { externalId: 'ad-buyer-2' })).commission?.status).toBe('pending');
  });
});
