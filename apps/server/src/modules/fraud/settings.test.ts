import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asKey, createTestContext, signupActor, uniqueEmail, type Actor, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;
let programId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app, { workspaceName: 'Acme Bikes' });
  api = asKey(ctx.app, brand.apiKey);
  programId = (await api('POST', '/api/v1/programs', { name: 'Acme Partners', currency: 'USD', destinationUrl: 'https://acme.example.com/' })).json().id;
});
afterAll(async () => ctx?.close());

describe('fraud settings', () => {
  it('start from defaults that work without tuning', async () => {
    const res = await api('GET', `/api/v1/programs/${programId}/fraud-settings`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ programId, holdThreshold: 60, overrides: {} });
    expect(Object.keys(body.rules).sort()).toEqual([
      'click_velocity', 'disposable_email', 'duplicate_identity', 'instant_conversion', 'no_click_no_coupon',
      'paid_ad_click', 'refund_rate', 'self_referral', 'shared_login', 'shared_payout_details',
    ]);
    expect(body.rules.self_referral).toEqual({ enabled: true, weight: 100 });
    expect(body.rules.paid_ad_click).toMatchObject({ forbidPaidSearch: false, params: expect.arrayContaining(['gclid', 'fbclid', 'msclkid']) });
  });

  it('merge a change key by key, keep it per program and audit it', async () => {
    const first = await api('PUT', `/api/v1/programs/${programId}/fraud-settings`, { holdThreshold: 50, rules: { click_velocity: { maxClicksPerIp: 5 } } });
    expect(first.statusCode).toBe(200);
    const second = await api('PUT', `/api/v1/programs/${programId}/fraud-settings`, { rules: { click_velocity: { windowMinutes: 10 }, paid_ad_click: { forbidPaidSearch: true } } });
    expect(second.json()).toMatchObject({
      holdThreshold: 50,
      rules: { click_velocity: { maxClicksPerIp: 5, windowMinutes: 10, maxClicksPerLink: 1000 }, paid_ad_click: { forbidPaidSearch: true } },
      overrides: { holdThreshold: 50, rules: { click_velocity: { maxClicksPerIp: 5, windowMinutes: 10 }, paid_ad_click: { forbidPaidSearch: true } } },
    });
    const other = (await api('POST', '/api/v1/programs', { name: 'Second', currency: 'USD', destinationUrl: 'https://acme.example.com/' })).json().id;
    expect((await api('GET', `/api/v1/programs/${other}/fraud-settings`)).json().holdThreshold).toBe(60);
    const audit = await ctx.pool.query(`select before, after from audit_log where workspace_id = $1 and action = 'fraud_settings.changed' order by id`, [brand.workspaceId]);
    expect(audit.rows).toHaveLength(2);
    expect(audit.rows[1].before).toEqual({ holdThreshold: 50, rules: { click_velocity: { maxClicksPerIp: 5 } } });
  });

  it('refuse unknown rules, unknown keys and out-of-range values, naming them', async () => {
    const res = await api('PUT', `/api/v1/programs/${programId}/fraud-settings`, { holdThreshold: 101, rules: { vibes: {}, instant_conversion: { minSeconds: 0, colour: 'red' } } });
    expect(res.statusCode).toBe(422);
    const paths = res.json().error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['holdThreshold', 'rules.instant_conversion.colour', 'rules.instant_conversion.minSeconds', 'rules.vibes']);
  });

  it('need the admin scope to change and answer another workspace with 404', async () => {
    const key = (await api('POST', '/api/v1/api-keys', { name: 'writer', scopes: ['read', 'write'] })).json().key;
    expect((await asKey(ctx.app, key)('PUT', `/api/v1/programs/${programId}/fraud-settings`, { holdThreshold: 10 })).statusCode).toBe(403);
    const other = await signupActor(ctx.app);
    expect((await asKey(ctx.app, other.apiKey)('GET', `/api/v1/programs/${programId}/fraud-settings`)).statusCode).toBe(404);
    expect((await asKey(ctx.app, other.apiKey)('PUT', `/api/v1/programs/${programId}/fraud-settings`, { holdThreshold: 10 })).statusCode).toBe(404);
  });
});

describe('partner risk', () => {
  it('scores shared payout details and a shared login, with the other partners as evidence', async () => {
    const add = async (name: string) => (await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail(name), name })).json().partner.id as string;
    const [ann, ben, cat] = [await add('Ann'), await add('Ben'), await add('Cat')];
    const register = (id: string, details: string) => api('POST', `/api/v1/partners/${id}/payout-identities`, { details });
    expect((await register(ann, 'DE89 3704 0044 0532 0130 00')).statusCode).toBe(204);
    expect((await register(ben, 'de89 3704 0044 0532 0130 00 ')).statusCode).toBe(204);
    expect((await register(cat, 'GB29 NWBK 6016 1331 9268 19')).statusCode).toBe(204);
    expect((await register(cat, '')).statusCode).toBe(422);
    expect((await register('ptn_00000000000000000000000000', 'GB29 NWBK 6016 1331 9268 19')).statusCode).toBe(404);
    const other = await signupActor(ctx.app);
    expect((await asKey(ctx.app, other.apiKey)('POST', `/api/v1/partners/${ann}/payout-identities`, { details: 'DE89 3704 0044 0532 0130 00' })).statusCode).toBe(404);
    const audit = await ctx.pool.query(`select after from audit_log where workspace_id = $1 and action = 'partner.payout_identity_added'`, [brand.workspaceId]);
    expect(audit.rows).toEqual([{ after: null }, { after: null }, { after: null }]);
    const user = await signupActor(ctx.app);
    await ctx.pool.query('update partners set user_id = $1 where workspace_id = $2 and id = any($3)', [user.userId, brand.workspaceId, [ben, cat]]);

    const annRisk = (await api('GET', `/api/v1/partners/${ann}/risk?programId=${programId}`)).json();
    expect(annRisk).toMatchObject({ partnerId: ann, programId, score: 100, heldCommissions: 0, signals: [{ type: 'shared_payout_details', strong: true, evidence: { partnerIds: [ben] } }] });
    const catRisk = (await api('GET', `/api/v1/partners/${cat}/risk`)).json();
    expect(catRisk).toMatchObject({ programId: null, score: 50, signals: [{ type: 'shared_login', evidence: { partnerIds: [ben] } }] });
    const payoutHashes = await ctx.pool.query(`select value_hash from partner_identities where kind = 'payout'`);
    expect(payoutHashes.rows.every((r) => !r.value_hash.includes('3704'))).toBe(true);
  });

  it('is zero for an honest partner and 404 for another workspace or an unknown partner', async () => {
    const honest = (await api('POST', `/api/v1/programs/${programId}/partners`, { email: uniqueEmail('Dee'), name: 'Dee' })).json().partner.id;
    expect((await api('GET', `/api/v1/partners/${honest}/risk`)).json()).toMatchObject({ score: 0, signals: [] });
    const other = await signupActor(ctx.app);
    expect((await asKey(ctx.app, other.apiKey)('GET', `/api/v1/partners/${honest}/risk`)).statusCode).toBe(404);
    expect((await api('GET', '/api/v1/partners/ptn_00000000000000000000000000/risk')).statusCode).toBe(404);
    expect((await api('GET', `/api/v1/partners/${honest}/risk?programId=prg_00000000000000000000000000`)).statusCode).toBe(404);
  });
});
