import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { asKey, createTestContext, signupActor, type Actor, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
let brand: Actor;
let api: ReturnType<typeof asKey>;

beforeAll(async () => {
  ctx = await createTestContext();
  brand = await signupActor(ctx.app);
  api = asKey(ctx.app, brand.apiKey);
});
afterAll(async () => ctx?.close());

async function newProgram(as = api): Promise<string> {
  const res = await as('POST', '/api/v1/programs', { name: 'Import program', currency: 'USD', destinationUrl: 'https://brand.example/' });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

function upload(programId: string, csv: string, query = '', key = brand.apiKey) {
  return ctx.app.inject({
    method: 'POST',
    url: `/api/v1/programs/${programId}/partners/import${query}`,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
    payload: csv,
  });
}

async function enrolledEmails(programId: string): Promise<string[]> {
  const { rows } = await ctx.pool.query<{ email: string }>(
    'select p.email from enrollments e join partners p on p.workspace_id = e.workspace_id and p.id = e.partner_id where e.workspace_id = $1 and e.program_id = $2 order by p.email',
    [brand.workspaceId, programId],
  );
  return rows.map((r) => r.email);
}

const GOOD = 'email,name,tags,status\r\nann@p.example,Ann,vip;fitness,approved\r\n"bo@p.example","Bo, the Builder",,invited\r\n';
const MIXED = 'email,name\nann@p.example,Ann\nnot-an-email,Nope\ncy@p.example,\ndee@p.example,Dee\nann@p.example,Ann again\n';

describe('POST /api/v1/programs/:id/partners/import', () => {
  it('imports every row through the same path as adding a partner by hand', async () => {
    const programId = await newProgram();
    const res = await upload(programId, GOOD);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ dryRun: false, skipBadRows: false, committed: true, rows: 2, succeeded: 2, failed: 0, errors: [] });
    expect(await enrolledEmails(programId)).toEqual(['ann@p.example', 'bo@p.example']);
    const partners = (await api('GET', `/api/v1/programs/${programId}/partners`)).json().data;
    const ann = partners.find((p: { partner?: { email: string }; status: string }) => JSON.stringify(p).includes('ann@p.example'));
    expect(JSON.stringify(ann)).toContain('vip');
    const audit = (await api('GET', '/api/v1/audit?action=partners.imported')).json().data;
    expect(audit[0]).toMatchObject({ target: { type: 'program', id: programId }, after: { rows: 2, imported: 2, skipped: 0 } });
  });

  it('reports every bad row and writes nothing when any row fails', async () => {
    const programId = await newProgram();
    const res = await upload(programId, MIXED);
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report).toMatchObject({ committed: false, rows: 5, succeeded: 2, failed: 3 });
    expect(report.errors).toEqual([
      { row: 2, path: 'email', message: 'must be a valid email address' },
      { row: 3, path: 'name', message: expect.any(String) },
      { row: 5, path: 'email', message: 'appears earlier in this file' },
    ]);
    expect(await enrolledEmails(programId)).toEqual([]);
  });

  it('imports the good rows when told to skip bad ones', async () => {
    const programId = await newProgram();
    const report = (await upload(programId, MIXED, '?skipBadRows=true')).json();
    expect(report).toMatchObject({ committed: true, skipBadRows: true, succeeded: 2, failed: 3 });
    expect(await enrolledEmails(programId)).toEqual(['ann@p.example', 'dee@p.example']);
    // A second import of the same people fails per row: they are already enrolled.
    const again = (await upload(programId, 'email,name\nann@p.example,Ann\n')).json();
    expect(again).toMatchObject({ committed: false, failed: 1, errors: [{ row: 1 }] });
  });

  it('writes nothing on a dry run, even when every row is good', async () => {
    const programId = await newProgram();
    const report = (await upload(programId, GOOD, '?dryRun=true')).json();
    expect(report).toEqual({ dryRun: true, skipBadRows: false, committed: false, rows: 2, succeeded: 2, failed: 0, errors: [] });
    expect(await enrolledEmails(programId)).toEqual([]);
  });

  it('refuses an unusable header, an empty body and a non-CSV body', async () => {
    const programId = await newProgram();
    const header = await upload(programId, 'mail,name,colour\nx@y.z,X,red\n');
    expect(header.statusCode).toBe(422);
    expect(header.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(['header.colour', 'header.email', 'header.mail']);
    const empty = await upload(programId, '');
    expect(empty.statusCode).toBe(422);
    const json = await api('POST', `/api/v1/programs/${programId}/partners/import`, { email: 'a@b.c' });
    expect(json.statusCode).toBe(400);
    const badQuery = await upload(programId, GOOD, '?dryRun=maybe');
    expect(badQuery.statusCode).toBe(422);
    expect(badQuery.json().error.details[0].path).toBe('dryRun');
  });

  it('holds no transaction open while the file is still arriving', async () => {
    const programId = await newProgram();
    const body = new PassThrough();
    const response = ctx.app.inject({
      method: 'POST',
      url: `/api/v1/programs/${programId}/partners/import`,
      headers: { authorization: `Bearer ${brand.apiKey}`, 'content-type': 'text/csv' },
      payload: body,
    });
    // A slow client: the header and a row, then a pause.
    body.write('email,name\nslow1@p.example,Slow One\n');
    await new Promise((r) => setTimeout(r, 500));
    const { rows } = await ctx.pool.query<{ open: number }>(
      `select count(*)::int as open from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and (state like 'idle in transaction%' or backend_xid is not null)`,
    );
    body.end('slow2@p.example,Slow Two\n');
    const res = await response;
    expect(rows[0]!.open).toBe(0);
    expect(res.json()).toMatchObject({ committed: true, rows: 2, succeeded: 2 });
    expect(await enrolledEmails(programId)).toEqual(['slow1@p.example', 'slow2@p.example']);
  });

  it('answers 404 for another workspace’s program and 403 without the write scope', async () => {
    const programId = await newProgram();
    const stranger = await signupActor(ctx.app);
    const res = await upload(programId, GOOD, '', stranger.apiKey);
    expect(res.statusCode).toBe(404);
    const reader = (await api('POST', '/api/v1/api-keys', { name: 'r', scopes: ['read'] })).json().key;
    expect((await upload(programId, GOOD, '', reader)).statusCode).toBe(403);
    expect(await enrolledEmails(programId)).toEqual([]);
  });
});
