import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '@tandem/contracts';
import { asKey, cookieHeader, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';
import { recordAudit } from './record.js';

let ctx: TestContext;
let owner: Actor;
let api: ReturnType<typeof asKey>;

beforeAll(async () => {
  ctx = await createTestContext();
  owner = await signupActor(ctx.app);
  api = asKey(ctx.app, owner.apiKey);
});
afterAll(async () => ctx?.close());

type Entry = { id: string; actor: { kind: string; id: string | null }; action: string; target: { type: string; id: string } | null; before: unknown; after: unknown; createdAt: string };
const list = async (query = '', as = api) => {
  const res = await as('GET', `/api/v1/audit${query}`);
  expect(res.statusCode).toBe(200);
  return res.json<{ data: Entry[]; nextCursor: string | null }>();
};

describe('audit trail of security actions', () => {
  it('records signup, login, API key creation and revocation with who, what, when, before and after', async () => {
    const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: owner.email, password: 'correct horse battery' } });
    expect(login.statusCode).toBe(200);
    const key = (await api('POST', '/api/v1/api-keys', { name: 'CI', scopes: ['read'] })).json();
    expect((await api('DELETE', `/api/v1/api-keys/${key.id}`)).statusCode).toBe(204);

    const { data } = await list();
    const byAction = (action: string) => data.find((e) => e.action === action);
    expect(byAction('workspace.created')).toMatchObject({ actor: { kind: 'user', id: owner.userId }, target: { type: 'workspace', id: owner.workspaceId }, after: { owner: owner.userId } });
    expect(byAction('auth.login')).toMatchObject({ actor: { kind: 'user', id: owner.userId }, target: { type: 'user', id: owner.userId } });
    const defaultKeyId = (await api('GET', '/api/v1/api-keys')).json().data.find((k: { name: string }) => k.name === 'Default key').id;
    expect(byAction('api_key.created')).toMatchObject({ actor: { kind: 'api_key', id: defaultKeyId }, target: { type: 'api_key', id: key.id }, before: null, after: { name: 'CI', scopes: ['read'] } });
    expect(byAction('api_key.revoked')).toMatchObject({ target: { id: key.id }, before: { revoked: false }, after: { revoked: true } });
    for (const entry of data) expect(Date.parse(entry.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    // Newest first.
    expect(data.map((e) => e.id)).toEqual([...data.map((e) => e.id)].sort().reverse());
  });

  it('records invitations and member removal', async () => {
    const actor = await signupActor(ctx.app);
    const as = asKey(ctx.app, actor.apiKey);
    const invitation = (await as('POST', '/api/v1/invitations', { email: 'teammate@example.com', role: 'admin' })).json();
    const token = new URL(invitation.acceptUrl).searchParams.get('token');
    const accepted = await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token, name: 'Mate', password: 'long enough pw' } });
    expect(accepted.statusCode).toBe(200);
    const mateId = accepted.json().user.id;
    expect(cookieHeader(accepted)).toContain('tandem_session');
    expect((await as('DELETE', `/api/v1/members/${mateId}`)).statusCode).toBe(204);
    const second = (await as('POST', '/api/v1/invitations', { email: 'other@example.com' })).json();
    expect((await as('DELETE', `/api/v1/invitations/${second.id}`)).statusCode).toBe(204);

    const actions = (await list('?limit=100', as)).data.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['invitation.created', 'invitation.accepted', 'member.removed', 'invitation.revoked']));
    const removed = (await list(`?action=member.removed`, as)).data;
    expect(removed).toEqual([expect.objectContaining({ target: { type: 'user', id: mateId }, before: { role: 'admin' }, after: null })]);
  });
});

describe('GET /api/v1/audit', () => {
  it('filters by action (exact or prefix), actor, target and time, and pages', async () => {
    const actor = await signupActor(ctx.app);
    const as = asKey(ctx.app, actor.apiKey);
    for (let i = 0; i < 3; i++) {
      await recordAudit(ctx.pool, { workspaceId: actor.workspaceId, actor: { kind: 'system', id: null }, action: 'program.rules_changed', target: { type: 'program', id: `prg_${i}` }, before: { v: i }, after: { v: i + 1 } });
    }
    expect((await list('?action=program.rules_changed', as)).data).toHaveLength(3);
    expect((await list('?action=program.', as)).data).toHaveLength(3);
    expect((await list('?action=program', as)).data).toHaveLength(0);
    expect((await list('?targetType=program&targetId=prg_1', as)).data).toEqual([expect.objectContaining({ before: { v: 1 }, after: { v: 2 } })]);
    expect((await list('?actorKind=system', as)).data).toHaveLength(3);
    expect((await list(`?actorId=${actor.userId}`, as)).data.map((e) => e.action)).toEqual(['workspace.created']);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await list(`?from=${encodeURIComponent(future)}`, as)).data).toHaveLength(0);
    expect((await list(`?to=${encodeURIComponent(future)}`, as)).data.length).toBeGreaterThanOrEqual(4);

    const first = await list('?limit=2', as);
    expect(first.data).toHaveLength(2);
    const second = await list(`?limit=2&cursor=${first.nextCursor}`, as);
    expect(second.data.map((e) => e.id).every((id) => id < first.data[1]!.id)).toBe(true);
  });

  it('names bad filters', async () => {
    const res = await api('GET', '/api/v1/audit?from=yesterday&actorKind=robot&colour=red');
    expect(res.statusCode).toBe(422);
    expect(res.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(['actorKind', 'colour', 'from']);
  });

  it('shows only the caller’s workspace and needs the admin scope', async () => {
    const stranger = await signupActor(ctx.app);
    const entries = (await list('?limit=100', asKey(ctx.app, stranger.apiKey))).data;
    expect(entries.map((e) => e.action)).toEqual(['workspace.created']);
    expect(entries[0]!.target!.id).toBe(stranger.workspaceId);
    const reader = (await api('POST', '/api/v1/api-keys', { name: 'reader', scopes: ['read', 'write'] })).json().key;
    expect((await asKey(ctx.app, reader)('GET', '/api/v1/audit')).statusCode).toBe(403);
    expect((await asKey(ctx.app, reader)('GET', '/api/v1/audit.csv')).statusCode).toBe(403);
  });
});

describe('GET /api/v1/audit.csv', () => {
  it('streams the filtered trail as CSV, oldest first, quoting and defusing formulas', async () => {
    const actor = await signupActor(ctx.app);
    const as = asKey(ctx.app, actor.apiKey);
    await recordAudit(ctx.pool, { workspaceId: actor.workspaceId, actor: { kind: 'system', id: null }, action: 'partner.renamed', target: { type: 'partner', id: 'ptn_x' }, before: { name: 'Ann, "the" Seller' }, after: { name: '=HYPERLINK("x")' } });
    // More rows than one batch, to cross the keyset boundary.
    for (let i = 0; i < 1100; i += 100) {
      await ctx.pool.query(
        `insert into audit_log (workspace_id, id, actor_kind, action) select $1, 'aud_' || lpad(($2 + g)::text, 26, '0'), 'system', 'bulk.row' from generate_series(1, 100) g`,
        [actor.workspaceId, i],
      );
    }
    const res = await as('GET', '/api/v1/audit.csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="audit.csv"');
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,created_at,actor_kind,actor_id,action,target_type,target_id,before,after');
    expect(lines).toHaveLength(1 + 1 + 1 + 1100);
    const ids = lines.slice(1).map((l) => l.split(',')[0]!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort());
    const renamed = lines.find((l) => l.includes('partner.renamed'))!;
    expect(renamed).toContain('"{""name"":""Ann, \\""the\\"" Seller""}"');
    expect(renamed.endsWith(`"{""name"":""=HYPERLINK(\\""x\\"")""}"`)).toBe(true);

    const filtered = await as('GET', '/api/v1/audit.csv?action=partner.renamed');
    expect(filtered.body.trimEnd().split('\r\n')).toHaveLength(2);
  });
});

describe('append-only', () => {
  it('offers no endpoint that changes or deletes an entry', () => {
    const auditRoutes = Object.values(endpoints).filter((e) => e.path.startsWith('/api/v1/audit'));
    expect(auditRoutes.length).toBeGreaterThan(0);
    expect(auditRoutes.every((e) => e.method === 'GET')).toBe(true);
  });

  it('has no code path that updates or deletes audit rows', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
          const text = fs.readFileSync(full, 'utf8');
          if (/update\s+audit_log|delete\s+from\s+audit_log|truncate\s+audit_log/i.test(text)) offenders.push(path.relative(root, full));
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
