import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { asKey, cookieHeader, createTestContext, signupActor, uniqueEmail, type Actor, type TestContext } from '../../test/harness.js';

const start = new Date('2026-05-01T10:00:00Z');
const DAY = 86_400_000;
/** How an enrollment event or a decision names the owner's API key. */
const byOwnersKey = expect.stringMatching(/^key_/);

let ctx: TestContext;
let owner: Actor;
let api: ReturnType<typeof asKey>;
beforeAll(async () => {
  ctx = await createTestContext({ now: start });
  owner = await signupActor(ctx.app, { workspaceName: 'Council Co' });
  api = asKey(ctx.app, owner.apiKey);
});
afterAll(async () => ctx?.close());

interface Reviewer {
  userId: string;
  headers: { cookie: string; 'x-csrf-token': string };
  vote(applicationId: string, decision: 'approve' | 'reject', comment?: string): Promise<LightMyRequestResponse>;
}

function reviewerFromSession(userId: string, cookie: string, csrf: string): Reviewer {
  return {
    userId,
    headers: { cookie, 'x-csrf-token': csrf },
    vote: (applicationId, decision, comment) =>
      ctx.app.inject({ method: 'POST', url: `/api/v1/applications/${applicationId}/votes`, headers: { cookie, 'x-csrf-token': csrf }, payload: { decision, ...(comment ? { comment } : {}) } }),
  };
}

/** A teammate of the owner's workspace, signed in with a session. */
async function addTeammate(): Promise<Reviewer> {
  const invite = await api('POST', '/api/v1/invitations', { email: uniqueEmail('reviewer'), role: 'member' });
  const token = new URL(invite.json().acceptUrl).searchParams.get('token');
  const accepted = await ctx.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token, name: 'Reviewer', password: 'long enough pw' } });
  return reviewerFromSession(accepted.json().user.id, cookieHeader(accepted), accepted.json().csrfToken);
}

const program = async (slug: string, approval: Record<string, unknown>) => {
  const res = await api('POST', '/api/v1/programs', { name: slug, slug, currency: 'USD', destinationUrl: 'https://council.example.com/', approval, status: 'active', terms: { text: 'Terms' } });
  expect(res.statusCode).toBe(201);
  return res.json();
};
const apply = (slug: string, body: Record<string, unknown>) => ctx.app.inject({ method: 'POST', url: `/api/v1/public/programs/${slug}/applications`, payload: body, remoteAddress: '203.0.113.9' });

describe('auto approval', () => {
  it('approves at once when every criterion is met, with link, coupon and terms accepted from a hashed IP', async () => {
    const p = await program('auto-prog', { mode: 'auto', criteria: { requireWebsite: true, minAudienceSize: 1000, categories: ['cycling'] } });
    const res = await apply('auto-prog', { name: 'Rider', email: uniqueEmail(), website: 'https://rider.example', audienceSize: 5000, category: 'Cycling' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ id: expect.stringMatching(/^app_/), status: 'approved' });
    const app = (await api('GET', `/api/v1/applications/${res.json().id}`)).json();
    expect(app).toMatchObject({ status: 'approved', decidedBy: 'system', decisionReason: 'auto: every criterion met', programId: p.id });
    const enrollment = (await api('GET', `/api/v1/enrollments/${app.enrollmentId}`)).json();
    expect(enrollment).toMatchObject({ status: 'approved', acceptedTermsVersion: 1, couponCode: expect.stringMatching(/^RIDER/), link: { key: expect.any(String) } });
    const stored = await ctx.pool.query('select accepted_terms_ip_hash from enrollments where id = $1', [app.enrollmentId]);
    expect(stored.rows[0].accepted_terms_ip_hash).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(stored.rows[0].accepted_terms_ip_hash).not.toContain('203.0.113.9');
  });

  it('rejects at once naming the unmet criteria', async () => {
    await program('auto-strict', { mode: 'auto', criteria: { requireWebsite: true, minAudienceSize: 1000 } });
    const res = await apply('auto-strict', { name: 'Tiny', email: uniqueEmail(), audienceSize: 10 });
    expect(res.json().status).toBe('rejected');
    const app = (await api('GET', `/api/v1/applications/${res.json().id}`)).json();
    expect(app.decisionReason).toContain('website');
    expect(app.decisionReason).toContain('audienceSize');
  });
});

describe('manual approval', () => {
  it('stays applied until an admin decides through the enrollment status', async () => {
    await program('manual-prog', { mode: 'manual' });
    const res = await apply('manual-prog', { name: 'Writer', email: uniqueEmail(), message: 'I write about bikes' });
    expect(res.json().status).toBe('applied');
    const app = (await api('GET', `/api/v1/applications/${res.json().id}`)).json();
    expect((await api('GET', `/api/v1/enrollments/${app.enrollmentId}`)).json()).toMatchObject({ status: 'applied', link: null, couponCode: null });
    const decided = await api('POST', `/api/v1/enrollments/${app.enrollmentId}/status`, { status: 'approved', reason: 'good fit' });
    expect(decided.json()).toMatchObject({ status: 'approved', link: { key: expect.any(String) } });
    expect((await api('GET', `/api/v1/applications/${app.id}`)).json()).toMatchObject({ status: 'approved', decisionReason: 'good fit' });
  });

  it('turns an invitation into an application when the invitee applies, accepting the terms shown', async () => {
    const programs = (await api('GET', '/api/v1/programs?limit=100')).json().data;
    const manual = programs.find((p: { slug: string }) => p.slug === 'manual-prog');
    const email = uniqueEmail('invitee');
    const invited = (await api('POST', `/api/v1/programs/${manual.id}/partners`, { email, name: 'Invitee', status: 'invited' })).json();
    const res = await apply('manual-prog', { name: 'Invitee', email, website: 'https://invitee.example' });
    expect(res.statusCode).toBe(201);
    const enrollment = (await api('GET', `/api/v1/enrollments/${invited.enrollment.id}`)).json();
    expect(enrollment).toMatchObject({ status: 'applied', acceptedTermsVersion: 1, statusReason: 'accepted the invitation by applying' });
  });

  it('lets only admins decide (a member gets 403)', async () => {
    const res = (await apply('manual-prog', { name: 'Needs Admin', email: uniqueEmail() })).json();
    const app = (await api('GET', `/api/v1/applications/${res.id}`)).json();
    const member = await addTeammate();
    const byMember = await ctx.app.inject({ method: 'POST', url: `/api/v1/enrollments/${app.enrollmentId}/status`, headers: member.headers, payload: { status: 'approved' } });
    expect(byMember.statusCode).toBe(403);
  });

  it('refuses a pending duplicate with 409 and an inactive program with 422', async () => {
    const email = uniqueEmail();
    await apply('manual-prog', { name: 'Twice', email });
    expect((await apply('manual-prog', { name: 'Twice', email })).statusCode).toBe(409);
    const draft = await api('POST', '/api/v1/programs', { name: 'Draft', slug: 'draft-prog', currency: 'USD', destinationUrl: 'https://council.example.com/' });
    expect(draft.json().status).toBe('draft');
    expect((await apply('draft-prog', { name: 'Early', email: uniqueEmail() })).statusCode).toBe(422);
    expect((await apply('no-such-program', { name: 'Lost', email: uniqueEmail() })).statusCode).toBe(404);
  });

  it('refuses re-application within the cool-down after a rejection (422), and allows it after', async () => {
    await program('cooldown-prog', { mode: 'manual', cooldownDays: 10 });
    const email = uniqueEmail();
    const first = (await apply('cooldown-prog', { name: 'Again', email })).json();
    const app = (await api('GET', `/api/v1/applications/${first.id}`)).json();
    await api('POST', `/api/v1/enrollments/${app.enrollmentId}/status`, { status: 'rejected', reason: 'not now' });
    ctx.clock.advance(9 * DAY);
    const early = await apply('cooldown-prog', { name: 'Again', email });
    expect(early.statusCode).toBe(422);
    expect(early.json().error.details[0]).toMatchObject({ path: 'email', message: expect.stringContaining('may apply again from') });
    ctx.clock.advance(1 * DAY + 1000);
    const later = await apply('cooldown-prog', { name: 'Again', email });
    expect(later.statusCode).toBe(201);
    expect(later.json().status).toBe('applied');
    const events = (await api('GET', `/api/v1/enrollments/${app.enrollmentId}/events`)).json().data;
    expect(events.map((e: { toStatus: string }) => e.toStatus)).toEqual(['applied', 'rejected', 'applied']);
    expect(events[0].actor).toMatch(/^partner:ptn_/);
  });

  it('rate-limits applications per IP', async () => {
    const limited = await createTestContext({ limits: { authPerIpPerMinute: 2 } });
    try {
      const o = await signupActor(limited.app);
      await asKey(limited.app, o.apiKey)('POST', '/api/v1/programs', { name: 'Limited', slug: 'limited-prog', currency: 'USD', destinationUrl: 'https://x.example.com/', status: 'active' });
      const send = () => limited.app.inject({ method: 'POST', url: '/api/v1/public/programs/limited-prog/applications', payload: { name: 'Spam', email: uniqueEmail() }, remoteAddress: '198.51.100.7' });
      const statuses = [(await send()).statusCode, (await send()).statusCode, (await send()).statusCode];
      expect(statuses).toContain(429);
    } finally {
      await limited.close();
    }
  });
});

describe('applications whose program or partner goes away', () => {
  it('closes every pending application of a program that closes, and only that program’s, with an enrollment event', async () => {
    const closing = await program('manual-closing', { mode: 'manual' });
    await program('manual-staying', { mode: 'manual' });
    const pending = (await apply('manual-closing', { name: 'Too Late', email: uniqueEmail() })).json();
    const approvedEarlier = (await apply('manual-closing', { name: 'In Time', email: uniqueEmail() })).json();
    const earlierApp = (await api('GET', `/api/v1/applications/${approvedEarlier.id}`)).json();
    expect((await api('POST', `/api/v1/enrollments/${earlierApp.enrollmentId}/status`, { status: 'approved' })).statusCode).toBe(200);
    const elsewhere = (await apply('manual-staying', { name: 'Other Program', email: uniqueEmail() })).json();
    // Another workspace's pending application, in a program of its own.
    const other = await signupActor(ctx.app, { workspaceName: 'Other Brand' });
    const otherApi = asKey(ctx.app, other.apiKey);
    expect((await otherApi('POST', '/api/v1/programs', { name: 'Theirs', slug: 'theirs-manual', currency: 'USD', destinationUrl: 'https://theirs.example.com/', approval: { mode: 'manual' }, status: 'active' })).statusCode).toBe(201);
    const theirs = (await apply('theirs-manual', { name: 'Their Applicant', email: uniqueEmail() })).json();
    // Another workspace cannot close this program (404), and nothing is closed by its attempt.
    expect((await otherApi('PATCH', `/api/v1/programs/${closing.id}`, { status: 'closed' })).statusCode).toBe(404);
    expect((await api('GET', `/api/v1/applications/${pending.id}`)).json().status).toBe('applied');

    expect((await api('PATCH', `/api/v1/programs/${closing.id}`, { status: 'closed' })).statusCode).toBe(200);

    const closed = (await api('GET', `/api/v1/applications/${pending.id}`)).json();
    expect(closed).toMatchObject({ status: 'rejected', decisionReason: 'program closed', decidedBy: byOwnersKey, decidedAt: expect.any(String) });
    const events = (await api('GET', `/api/v1/enrollments/${closed.enrollmentId}/events`)).json().data;
    expect(events.at(-1)).toMatchObject({ fromStatus: 'applied', toStatus: 'rejected', reason: 'program closed', actor: byOwnersKey });
    // What was decided before stays as it was; other programs and workspaces are untouched.
    expect((await api('GET', `/api/v1/applications/${approvedEarlier.id}`)).json().status).toBe('approved');
    expect((await api('GET', `/api/v1/enrollments/${earlierApp.enrollmentId}`)).json().status).toBe('approved');
    expect((await api('GET', `/api/v1/applications/${elsewhere.id}`)).json().status).toBe('applied');
    expect((await otherApi('GET', `/api/v1/applications/${theirs.id}`)).json().status).toBe('applied');
  });

  it('closes a pending application when the partner’s personal data is erased (its enrollment is banned)', async () => {
    await program('manual-erased', { mode: 'manual' });
    const res = (await apply('manual-erased', { name: 'Forget Me', email: uniqueEmail() })).json();
    const app = (await api('GET', `/api/v1/applications/${res.id}`)).json();
    expect((await api('DELETE', `/api/v1/partners/${app.partner.id}/personal-data`)).statusCode).toBe(204);
    expect((await api('GET', `/api/v1/applications/${res.id}`)).json()).toMatchObject({
      status: 'rejected',
      decisionReason: 'enrollment banned outside the review: personal data erased',
      decidedBy: byOwnersKey,
    });
  });
});

describe('council approval', () => {
  let alice: Reviewer;
  let bob: Reviewer;
  let carol: Reviewer;
  beforeAll(async () => {
    alice = await addTeammate();
    bob = await addTeammate();
    carol = await addTeammate();
    await program('council-prog', { mode: 'council', quorum: 2, reviewers: [alice.userId, bob.userId, carol.userId] });
  });

  it('approves when quorum approvals are reached, recording every vote', async () => {
    const res = (await apply('council-prog', { name: 'Voted In', email: uniqueEmail() })).json();
    const first = await alice.vote(res.id, 'approve', 'great audience');
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ status: 'applied', votes: [{ reviewerId: alice.userId, decision: 'approve', comment: 'great audience' }] });
    const second = await bob.vote(res.id, 'approve');
    expect(second.json()).toMatchObject({ status: 'approved', decidedBy: 'system', decisionReason: expect.stringContaining('quorum reached') });
    expect(second.json().votes).toHaveLength(2);
    expect((await api('GET', `/api/v1/enrollments/${second.json().enrollmentId}`)).json()).toMatchObject({ status: 'approved', link: { key: expect.any(String) } });
    const late = await carol.vote(res.id, 'reject');
    expect(late.statusCode).toBe(409);
    const audit = await ctx.pool.query(`select count(*)::int as n from audit_log where workspace_id = $1 and action = 'application.voted' and target_id = $2`, [owner.workspaceId, res.id]);
    expect(audit.rows[0].n).toBe(2);
  });

  it('rejects as soon as quorum has become impossible', async () => {
    const res = (await apply('council-prog', { name: 'Voted Out', email: uniqueEmail() })).json();
    expect((await alice.vote(res.id, 'reject')).json().status).toBe('applied');
    const second = await bob.vote(res.id, 'reject', 'off-brand');
    expect(second.json()).toMatchObject({ status: 'rejected', decisionReason: expect.stringContaining('quorum impossible') });
    expect((await api('GET', `/api/v1/enrollments/${second.json().enrollmentId}`)).json().status).toBe('rejected');
  });

  it('refuses a vote by someone outside the council with 403 and a double vote with 409', async () => {
    const res = (await apply('council-prog', { name: 'Contested', email: uniqueEmail() })).json();
    const ownerVote = reviewerFromSession(owner.userId, owner.cookie, owner.csrf);
    expect((await ownerVote.vote(res.id, 'approve')).statusCode).toBe(403);
    expect((await alice.vote(res.id, 'approve')).statusCode).toBe(201);
    const again = await alice.vote(res.id, 'reject');
    expect(again.statusCode).toBe(409);
    const byKey = await api('POST', `/api/v1/applications/${res.id}/votes`, { decision: 'approve' });
    expect(byKey.statusCode).toBe(403);
    const app = (await api('GET', `/api/v1/applications/${res.id}`)).json();
    expect(app.votes).toHaveLength(1);
  });

  it('decides an application its remaining reviewers have settled when a reviewer leaves the workspace', async () => {
    const dan = await addTeammate();
    const erin = await addTeammate();
    await program('council-leaver', { mode: 'council', quorum: 2, reviewers: [dan.userId, erin.userId] });
    const res = (await apply('council-leaver', { name: 'Waiting On Erin', email: uniqueEmail() })).json();
    expect((await dan.vote(res.id, 'approve')).json().status).toBe('applied');

    expect((await api('DELETE', `/api/v1/members/${erin.userId}`)).statusCode).toBe(204);

    // Erin can never vote again: quorum counts the one reviewer who remains, whose approval is in.
    const decided = (await api('GET', `/api/v1/applications/${res.id}`)).json();
    expect(decided).toMatchObject({ status: 'approved', decidedBy: 'system', decisionReason: 'council: quorum reached (1 of 1 approvals)' });
    expect((await api('GET', `/api/v1/enrollments/${decided.enrollmentId}`)).json().status).toBe('approved');
    // A new application is decided by Dan alone.
    const next = (await apply('council-leaver', { name: 'After Erin', email: uniqueEmail() })).json();
    expect((await dan.vote(next.id, 'reject')).json()).toMatchObject({ status: 'rejected', decisionReason: 'council: quorum impossible (1 rejections of 1 reviewers, quorum 1)' });
  });

  it('decides open applications the council has settled when it is changed', async () => {
    const [fay, gus, hal] = [await addTeammate(), await addTeammate(), await addTeammate()];
    const council = await program('council-shrinks', { mode: 'council', quorum: 2, reviewers: [fay.userId, gus.userId, hal.userId] });
    const split = (await apply('council-shrinks', { name: 'Split Vote', email: uniqueEmail() })).json();
    await fay.vote(split.id, 'approve');
    await gus.vote(split.id, 'reject');
    const untouched = (await apply('council-shrinks', { name: 'No Votes Yet', email: uniqueEmail() })).json();

    const patched = await api('PATCH', `/api/v1/programs/${council.id}`, { approval: { mode: 'council', quorum: 2, reviewers: [fay.userId, gus.userId] } });
    expect(patched.statusCode).toBe(200);

    // Without Hal, both remaining reviewers have voted and quorum 2 cannot be reached.
    expect((await api('GET', `/api/v1/applications/${split.id}`)).json()).toMatchObject({ status: 'rejected', decisionReason: 'council: quorum impossible (1 rejections of 2 reviewers, quorum 2)' });
    expect((await api('GET', `/api/v1/applications/${untouched.id}`)).json().status).toBe('applied');
  });

  it('refuses to remove the last remaining reviewer of a council, naming the program', async () => {
    const ida = await addTeammate();
    const jon = await addTeammate();
    const council = await program('council-of-one', { mode: 'council', quorum: 1, reviewers: [ida.userId] });
    const refused = await api('DELETE', `/api/v1/members/${ida.userId}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.message).toContain(`'council-of-one' (${council.id})`);
    expect((await api('GET', '/api/v1/members?limit=100')).json().data.map((m: { userId: string }) => m.userId)).toContain(ida.userId);

    expect((await api('PATCH', `/api/v1/programs/${council.id}`, { approval: { mode: 'council', quorum: 1, reviewers: [jon.userId] } })).statusCode).toBe(200);
    expect((await api('DELETE', `/api/v1/members/${ida.userId}`)).statusCode).toBe(204);
  });

  it('closes the pending applications of a council program that closes, and removes its reviewers without deciding anything', async () => {
    const [dan, erin] = [await addTeammate(), await addTeammate()];
    const council = await program('council-closed', { mode: 'council', quorum: 2, reviewers: [dan.userId, erin.userId] });
    const res = (await apply('council-closed', { name: 'Closed Out', email: uniqueEmail() })).json();
    expect((await dan.vote(res.id, 'approve')).json().status).toBe('applied');
    expect((await api('PATCH', `/api/v1/programs/${council.id}`, { status: 'closed' })).statusCode).toBe(200);

    // A closed program approves no one: the application is closed, its votes kept, its enrollment rejected.
    const closed = (await api('GET', `/api/v1/applications/${res.id}`)).json();
    expect(closed).toMatchObject({ status: 'rejected', decisionReason: 'program closed', decidedBy: byOwnersKey, votes: [{ reviewerId: dan.userId, decision: 'approve' }] });
    expect((await api('GET', `/api/v1/enrollments/${closed.enrollmentId}`)).json()).toMatchObject({ status: 'rejected', statusReason: 'program closed' });
    const late = await erin.vote(res.id, 'approve');
    expect(late.statusCode).toBe(409);
    expect(late.json().error.message).toContain('rejected');

    // Removing a reviewer or shrinking the council decides nothing more.
    expect((await api('DELETE', `/api/v1/members/${erin.userId}`)).statusCode).toBe(204);
    expect((await api('PATCH', `/api/v1/programs/${council.id}`, { approval: { mode: 'council', quorum: 1, reviewers: [dan.userId] } })).statusCode).toBe(200);
    expect((await api('GET', `/api/v1/applications/${res.id}`)).json()).toMatchObject({ status: 'rejected', decisionReason: 'program closed' });
    // A closed council decides nothing any more, so its last reviewer may leave too.
    expect((await api('DELETE', `/api/v1/members/${dan.userId}`)).statusCode).toBe(204);
  });

  it('closes as approved an open application whose enrollment a partnership approved: a later vote is a 409, a reviewer leaving changes nothing', async () => {
    const [dan, erin] = [await addTeammate(), await addTeammate()];
    const council = await program('council-partnered', { mode: 'council', quorum: 2, reviewers: [dan.userId, erin.userId] });
    const guest = await signupActor(ctx.app, { workspaceName: 'Guest Brand' });
    const guestApi = asKey(ctx.app, guest.apiKey);
    const guestProgram = (await guestApi('POST', '/api/v1/programs', { name: 'Guest Program', currency: 'USD', destinationUrl: 'https://guest.example.com/', status: 'active' })).json();
    const res = (await apply('council-partnered', { name: 'Guest Brand', email: guest.email })).json();
    expect((await dan.vote(res.id, 'approve')).json().status).toBe('applied');
    const partnership = (await api('POST', '/api/v1/partnerships', { inviteWorkspaceSlug: guest.workspaceSlug, programId: council.id })).json();
    expect((await guestApi('POST', `/api/v1/partnerships/${partnership.id}/accept`, { programId: guestProgram.id })).statusCode).toBe(200);
    const decided = (await api('GET', `/api/v1/applications/${res.id}`)).json();
    expect(decided).toMatchObject({
      status: 'approved',
      decidedBy: 'system',
      decisionReason: `enrollment approved outside the review: reciprocal partnership ${partnership.id}`,
      votes: [{ reviewerId: dan.userId, decision: 'approve' }],
    });
    expect((await api('GET', `/api/v1/enrollments/${decided.enrollmentId}`)).json().status).toBe('approved');
    const waiting = (await api('GET', `/api/v1/applications?programId=${council.id}&status=applied`)).json();
    expect(waiting.data.map((a: { id: string }) => a.id)).not.toContain(res.id);

    // Erin's approval no longer fails on the enrollment's transition (422): the application is decided.
    const late = await erin.vote(res.id, 'approve');
    expect(late.statusCode).toBe(409);
    expect((await api('GET', `/api/v1/applications/${res.id}`)).json().votes).toHaveLength(1);

    expect((await api('DELETE', `/api/v1/members/${erin.userId}`)).statusCode).toBe(204);
    expect((await api('GET', `/api/v1/applications/${res.id}`)).json()).toMatchObject({ status: 'approved', decidedAt: decided.decidedAt });

    // A row left pending before transitions closed applications: a vote is refused (409), not a 422.
    await ctx.pool.query(`update applications set status = 'applied', decision_reason = null, decided_by = null, decided_at = null where id = $1`, [res.id]);
    const legacy = await dan.vote(res.id, 'approve');
    expect(legacy.statusCode).toBe(409);
    expect(legacy.json().error.message).toContain('enrollment is already approved');
  });

  it('guards only councils that still decide: a paused one keeps its last reviewer, a draft is checked when it goes live', async () => {
    const [kit, lee, mo] = [await addTeammate(), await addTeammate(), await addTeammate()];
    const paused = await program('council-paused', { mode: 'council', quorum: 1, reviewers: [kit.userId] });
    expect((await api('PATCH', `/api/v1/programs/${paused.id}`, { status: 'paused' })).statusCode).toBe(200);
    expect((await api('DELETE', `/api/v1/members/${kit.userId}`)).statusCode).toBe(409);

    const draft = await api('POST', '/api/v1/programs', { name: 'council-draft', slug: 'council-draft', currency: 'USD', destinationUrl: 'https://council.example.com/', approval: { mode: 'council', quorum: 1, reviewers: [lee.userId] }, status: 'draft' });
    expect(draft.statusCode).toBe(201);
    expect((await api('DELETE', `/api/v1/members/${lee.userId}`)).statusCode).toBe(204);
    const live = await api('PATCH', `/api/v1/programs/${draft.json().id}`, { status: 'active' });
    expect(live.statusCode).toBe(422);
    expect(live.json().error.details).toEqual([{ path: 'approval.reviewers.0', message: 'is not a member of this workspace' }]);
    expect((await api('PATCH', `/api/v1/programs/${draft.json().id}`, { status: 'active', approval: { mode: 'council', quorum: 1, reviewers: [mo.userId] } })).statusCode).toBe(200);
  });

  it('keeps the vote of a reviewer who voted and then left the workspace', async () => {
    const [ann, ben, cal] = [await addTeammate(), await addTeammate(), await addTeammate()];
    await program('council-departed-vote', { mode: 'council', quorum: 2, reviewers: [ann.userId, ben.userId, cal.userId] });
    const res = (await apply('council-departed-vote', { name: 'Half Way', email: uniqueEmail() })).json();
    expect((await ann.vote(res.id, 'approve')).json().status).toBe('applied');
    expect((await api('DELETE', `/api/v1/members/${ann.userId}`)).statusCode).toBe(204);
    expect((await api('GET', `/api/v1/applications/${res.id}`)).json().status).toBe('applied');

    // Ann's approval still counts: Ben's makes two of quorum 2 (she is one of the three who count).
    const decided = await ben.vote(res.id, 'approve');
    expect(decided.json()).toMatchObject({ status: 'approved', decisionReason: 'council: quorum reached (2 of 2 approvals)' });
    expect(decided.json().votes.map((v: { reviewerId: string }) => v.reviewerId).sort()).toEqual([ann.userId, ben.userId].sort());
  });

  it('never leaves a council whose only reviewer has left, when a PATCH naming them races their removal', async () => {
    const [ada, bea] = [await addTeammate(), await addTeammate()];
    const council = await program('council-race', { mode: 'council', quorum: 1, reviewers: [ada.userId, bea.userId] });
    // Holding the audit log stops the PATCH after its reviewer check, just before it commits; the removal
    // of its only named reviewer starts meanwhile. Unserialized, both committed.
    const blocker = await ctx.pool.connect();
    let patch: Promise<LightMyRequestResponse>;
    let remove: Promise<LightMyRequestResponse>;
    try {
      await blocker.query('begin');
      await blocker.query('lock table audit_log in share row exclusive mode');
      patch = api('PATCH', `/api/v1/programs/${council.id}`, { approval: { mode: 'council', quorum: 1, reviewers: [bea.userId] } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      remove = api('DELETE', `/api/v1/members/${bea.userId}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await blocker.query('commit');
      blocker.release();
    }
    const [patched, removed] = await Promise.all([patch!, remove!]);
    expect([patched.statusCode, removed.statusCode]).toEqual([200, 409]);
    const reviewers: string[] = (await api('GET', `/api/v1/programs/${council.id}`)).json().approval.reviewers;
    const members = (await api('GET', '/api/v1/members?limit=100')).json().data.map((m: { userId: string }) => m.userId);
    expect(reviewers.some((id) => members.includes(id))).toBe(true);
  });

  it('does not let an admin bypass the council through the status endpoint', async () => {
    const res = (await apply('council-prog', { name: 'Bypass', email: uniqueEmail() })).json();
    const app = (await api('GET', `/api/v1/applications/${res.id}`)).json();
    const bypass = await api('POST', `/api/v1/enrollments/${app.enrollmentId}/status`, { status: 'approved' });
    expect(bypass.statusCode).toBe(422);
  });

  it('lists applications with their votes, filtered by program and status', async () => {
    const programs = (await api('GET', '/api/v1/programs?limit=100')).json().data;
    const council = programs.find((p: { slug: string }) => p.slug === 'council-prog');
    const approved = (await api('GET', `/api/v1/applications?programId=${council.id}&status=approved`)).json();
    expect(approved.data.length).toBeGreaterThan(0);
    expect(approved.data.every((a: { status: string; votes: unknown[] }) => a.status === 'approved' && a.votes.length >= 2)).toBe(true);
  });

  it('answers another workspace’s application with 404, also for a vote', async () => {
    const res = (await apply('council-prog', { name: 'Hidden', email: uniqueEmail() })).json();
    const stranger = await signupActor(ctx.app);
    expect((await asKey(ctx.app, stranger.apiKey)('GET', `/api/v1/applications/${res.id}`)).statusCode).toBe(404);
    const vote = await reviewerFromSession(stranger.userId, stranger.cookie, stranger.csrf).vote(res.id, 'approve');
    expect(vote.statusCode).toBe(404);
    // With an API key too: not_found comes before "a vote is personal", which would confirm the id exists.
    const byKey = await asKey(ctx.app, stranger.apiKey)('POST', `/api/v1/applications/${res.id}/votes`, { decision: 'approve' });
    expect(byKey.statusCode).toBe(404);
    const ownByKey = await api('POST', `/api/v1/applications/${res.id}/votes`, { decision: 'approve' });
    expect(ownByKey.statusCode).toBe(403);
  });
});
