import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { asKey, cookieHeader, createTestContext, signupActor, uniqueEmail, type Actor, type TestContext } from '../../test/harness.js';

/*
 * The council's lock ordering under load. Each round races, on one council program and in-process
 * on the pool's 8 connections: a PATCH of the council (which re-tallies), the removal of one of its
 * reviewers from the workspace (which re-tallies too), reviewers' votes on three applications, in
 * half the rounds the program's closing, and a reciprocal partnership approving one applicant's
 * enrollment outside the review. Nothing may fail with a deadlock (which answers 500) or any other
 * 500, and every round must end consistent: each application decided at most once and as its
 * enrollment, each accepted vote stored and audited once, nothing left applied in a closed program,
 * and every active council keeping a reviewer who is still a member.
 */

const ROUNDS = 20;

let ctx: TestContext;
let owner: Actor;
let api: ReturnType<typeof asKey>;
let guest: Actor;
let guestApi: ReturnType<typeof asKey>;
let guestProgramId: string;

interface Reviewer {
  userId: string;
  vote(applicationId: string, decision: 'approve' | 'reject'): Promise<LightMyRequestResponse>;
}

async function addTeammate(): Promise<Reviewer> {
  const invite = await api('POST', '/api/v1/invitations', { email: uniqueEmail('reviewer'), role: 'member' });
  const token = new URL(invite.json().acceptUrl).searchParams.get('token');
  const accepted = await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token, name: 'Reviewer', password: 'long enough pw' } });
  const headers = { cookie: cookieHeader(accepted), 'x-csrf-token': accepted.json().csrfToken as string };
  return {
    userId: accepted.json().user.id,
    vote: (applicationId, decision) => ctx.app.inject({ method: 'POST', url: `/api/v1/applications/${applicationId}/votes`, headers, payload: { decision } }),
  };
}

const apply = async (slug: string, email: string): Promise<string> => {
  const res = await ctx.app.inject({ method: 'POST', url: `/api/v1/public/programs/${slug}/applications`, payload: { name: 'Applicant', email }, remoteAddress: '203.0.113.20' });
  expect(res.statusCode).toBe(201);
  return res.json().id;
};

let r1: Reviewer;
let r2: Reviewer;
let leavers: Reviewer[];

beforeAll(async () => {
  ctx = await createTestContext();
  owner = await signupActor(ctx.app, { workspaceName: 'Race Council' });
  api = asKey(ctx.app, owner.apiKey);
  guest = await signupActor(ctx.app, { workspaceName: 'Race Guest' });
  guestApi = asKey(ctx.app, guest.apiKey);
  const guestProgram = await guestApi('POST', '/api/v1/programs', { name: 'Guest Race', currency: 'USD', destinationUrl: 'https://guest-race.example.com/', status: 'active' });
  guestProgramId = guestProgram.json().id;
  const teammates = await Promise.all(Array.from({ length: ROUNDS + 2 }, addTeammate));
  [r1, r2] = [teammates[0]!, teammates[1]!];
  leavers = teammates.slice(2);
}, 60_000);
afterAll(async () => ctx?.close());

type Op = { name: string; res: LightMyRequestResponse; allowed: number[]; applicationId?: string };

it(`${ROUNDS} rounds of council PATCH, reviewer removal, votes, closing and a partnership approval at once: no deadlock or 500, every application consistent`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const leaver = leavers[round]!;
    const dropsLeaver = round % 2 === 1;
    const closes = (round >> 1) % 2 === 0;
    const slug = `race-${round}`;
    const created = await api('POST', '/api/v1/programs', {
      name: slug, slug, currency: 'USD', destinationUrl: 'https://race.example.com/', status: 'active',
      approval: { mode: 'council', quorum: 2, reviewers: [r1.userId, r2.userId, leaver.userId] },
    });
    expect(created.statusCode).toBe(201);
    const programId: string = created.json().id;
    const guestApp = await apply(slug, guest.email);
    const app1 = await apply(slug, uniqueEmail('race'));
    const app2 = await apply(slug, uniqueEmail('race'));
    // One approval already in: a quorum lowered to 1 settles app2 in the PATCH's re-tally.
    expect((await r1.vote(app2, 'approve')).statusCode).toBe(201);
    const partnership = await api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: guest.workspaceSlug, programId });
    expect(partnership.statusCode).toBe(201);

    const vote = (who: Reviewer, applicationId: string, decision: 'approve' | 'reject', allowed: number[]) => () =>
      who.vote(applicationId, decision).then((res): Op => ({ name: `vote ${decision} on ${applicationId}`, res, allowed, applicationId }));
    const op = (name: string, request: () => Promise<LightMyRequestResponse>, allowed: number[]) => () => request().then((res): Op => ({ name, res, allowed }));
    // A vote may come after the application was decided (409); the leaver's after their removal or
    // after a PATCH dropped them (401/403).
    const stays = [201, 409];
    const leaves = [201, 401, 403, 409];
    const requests = [
      op('council PATCH', () => api('PATCH', `/api/v1/programs/${programId}`, { approval: { mode: 'council', quorum: 1, reviewers: dropsLeaver ? [r1.userId, r2.userId] : [r1.userId, r2.userId, leaver.userId] } }),
        // Naming the leaver after their removal is a 422.
        dropsLeaver ? [200] : [200, 422]),
      op('member removal', () => api('DELETE', `/api/v1/members/${leaver.userId}`), [204]),
      vote(r1, guestApp, 'approve', stays),
      vote(r2, guestApp, 'approve', stays),
      vote(r1, app1, 'approve', stays),
      vote(r2, app1, 'reject', stays),
      vote(leaver, app1, 'approve', leaves),
      vote(r2, app2, 'approve', stays),
      vote(leaver, app2, 'reject', leaves),
      op('partnership approval', () => guestApi('POST', `/api/v1/partnerships/${partnership.json().id}/accept`, { programId: guestProgramId }), closes ? [200, 422] : [200]),
      ...(closes ? [op('closing', () => api('PATCH', `/api/v1/programs/${programId}`, { status: 'closed' }), [200])] : []),
    ];
    // Each round sends them in another order (rotated), so every request gets to go first.
    const shift = round % requests.length;
    const ops = await Promise.all([...requests.slice(shift), ...requests.slice(0, shift)].map((send) => send()));

    for (const { name, res, allowed } of ops) {
      expect(allowed, `round ${round}: ${name} answered ${res.statusCode} ${res.body}`).toContain(res.statusCode);
    }
    const accepted = ops.find((o) => o.name === 'partnership approval')!.res;
    // Refused only because the program had closed: never because a vote approved the enrollment meanwhile.
    if (accepted.statusCode === 422) expect(accepted.json().error.message).toBe('A closed program approves no one');

    const program = (await api('GET', `/api/v1/programs/${programId}`)).json();
    expect(program.status).toBe(closes ? 'closed' : 'active');
    const { rows: apps } = await ctx.pool.query<{ id: string; status: string; enrollment_status: string; enrollment_id: string; decisions: number; enrolled: number; votes: number; audited: number }>(
      `select a.id, a.status, e.status as enrollment_status, e.id as enrollment_id,
              (select count(*)::int from enrollment_events ev where ev.workspace_id = a.workspace_id and ev.enrollment_id = e.id and ev.from_status = 'applied') as decisions,
              (select count(*)::int from outbox_events o where o.workspace_id = a.workspace_id and o.type = 'partner.enrolled' and o.data->>'enrollmentId' = e.id) as enrolled,
              (select count(*)::int from application_votes v where v.workspace_id = a.workspace_id and v.application_id = a.id) as votes,
              (select count(*)::int from audit_log l where l.workspace_id = a.workspace_id and l.action = 'application.voted' and l.target_id = a.id) as audited
         from applications a join enrollments e on e.workspace_id = a.workspace_id and e.id = a.enrollment_id
        where a.workspace_id = $1 and a.program_id = $2 order by a.id`,
      [owner.workspaceId, programId],
    );
    expect(apps).toHaveLength(3);
    for (const a of apps) {
      const where = `round ${round}: application ${a.id}`;
      // The application and its enrollment agree, and the enrollment left `applied` at most once.
      expect(a.enrollment_status, where).toBe(a.status);
      expect(a.decisions, where).toBe(a.status === 'applied' ? 0 : 1);
      expect(a.enrolled, where).toBe(a.status === 'approved' ? 1 : 0);
      // Every accepted vote is stored and audited once, and no refused one is.
      const cast = ops.filter((o) => o.applicationId === a.id && o.res.statusCode === 201).length + (a.id === app2 ? 1 : 0);
      expect(a.votes, where).toBe(cast);
      expect(a.audited, where).toBe(cast);
      if (closes) expect(a.status, `${where} in a closed program`).not.toBe('applied');
    }
    // The partnership approved the guest brand's enrollment unless the program had closed first.
    const guestRow = apps.find((a) => a.id === guestApp)!;
    if (accepted.statusCode === 200) expect(guestRow.status).toBe('approved');
    // A council that still decides keeps a reviewer who is a member of the workspace.
    const members = new Set((await api('GET', '/api/v1/members?limit=100')).json().data.map((m: { userId: string }) => m.userId));
    expect(members.has(leaver.userId)).toBe(false);
    if (program.status !== 'closed') expect(program.approval.reviewers.some((id: string) => members.has(id))).toBe(true);
  }
}, 120_000);
