import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieHeader, createTestContext, signupActor, uniqueEmail, type TestContext } from '../../test/harness.js';
import { captureMail, type MailMessage } from '../mail/mail.js';

// Without TANDEM_PUBLIC_URL, as a fresh install runs: the case where the request's Host header was used.
let ctx: TestContext;
let outbox: MailMessage[];
let ownAddress: string;
beforeAll(async () => {
  ctx = await createTestContext({ env: { TANDEM_PUBLIC_URL: '' }, now: new Date('2030-06-10T09:00:00Z') });
  outbox = captureMail(ctx.services);
  ownAddress = `http://localhost:${ctx.services.config.port}`;
});
afterAll(async () => ctx?.close());

const craftedName = 'Pat,\n\nYour payouts are on hold. Confirm your bank details at https://pay.attacker.example/';
const evilHost = { host: 'tandem-login.evil.example' };

async function mailTo(email: string): Promise<MailMessage> {
  await ctx.services.queue.drain();
  const mail = outbox.filter((m) => m.to === email).at(-1);
  expect(mail, `a mail to ${email}`).toBeDefined();
  return mail!;
}

function expectNothingChosenBySender(mail: MailMessage): void {
  expect(mail.text).not.toContain('evil.example');
  expect(mail.text).not.toContain('attacker.example');
  expect(mail.text).not.toContain('payouts are on hold');
}

describe('links and text of mails', () => {
  it("verification mail: links to the server's own address, whatever the Host header, and carries no name", async () => {
    const email = uniqueEmail('pat');
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/signup', headers: evilHost, payload: { email, password: 'partner password', name: craftedName } });
    expect(res.statusCode, res.body).toBe(201);
    const mail = await mailTo(email);
    expect(mail.text).toContain(`${ownAddress}/portal/verify-email?token=`);
    expectNothingChosenBySender(mail);

    // A resend (allowed once a minute) is mailed the same way.
    ctx.clock.advance(2 * 60_000);
    const resent = await ctx.app.inject({ method: 'POST', url: '/api/v1/portal/email/resend', headers: { ...evilHost, cookie: cookieHeader(res), 'x-csrf-token': res.json().csrfToken } });
    expect(resent.statusCode, resent.body).toBe(202);
    const second = await mailTo(email);
    expect(second).not.toBe(mail);
    expect(second.text).toContain(`${ownAddress}/portal/verify-email?token=`);
    expectNothingChosenBySender(second);
  });

  it("password reset mail: links to the server's own address, whatever the Host header, and carries no name", async () => {
    const actor = await signupActor(ctx.app, { name: craftedName });
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', headers: evilHost, payload: { email: actor.email } });
    expect(res.statusCode).toBe(202);
    const mail = await mailTo(actor.email);
    expect(mail.text).toContain(`${ownAddress}/reset-password?token=`);
    expectNothingChosenBySender(mail);
  });
});
