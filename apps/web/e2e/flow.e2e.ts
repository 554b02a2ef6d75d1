import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { collectConsoleErrors, launchBrowser, shot, startServer, type E2eServer } from './server.js';

/*
 * The main journey across both sides, in a real browser against a real server: a brand sets up a
 * program and a partner, the partner signs in to the portal and copies its link, a visitor clicks
 * and buys (through the API, as a brand's backend would), and both sides see it without reloading.
 */

let server: E2eServer;
let browser: Browser;
let brandContext: BrowserContext;
let partnerContext: BrowserContext;
let brand: Page;
let partner: Page;
let brandErrors: string[] = [];
let partnerErrors: string[] = [];
const stamp = Date.now();
const partnerEmail = `casey-${stamp}@example.com`;
let apiKey = '';
let partnerLink = '';

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  brandContext = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  partnerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await partnerContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
  brand = await brandContext.newPage();
  partner = await partnerContext.newPage();
  brandErrors = collectConsoleErrors(brand);
  partnerErrors = collectConsoleErrors(partner);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = res.status === 204 ? undefined : await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json as Record<string, unknown>;
};

it('brand: signs up, creates a program and adds a partner', async () => {
  await brand.goto(`${server.baseUrl}/signup`);
  await brand.getByLabel('Your name').fill('Robin Brand');
  await brand.getByLabel('Brand name').fill('Northwind Coffee');
  await brand.getByLabel('Work email').fill(`robin-${stamp}@example.com`);
  await brand.getByLabel('Password').fill('a long enough password');
  await brand.getByRole('button', { name: /create workspace/i }).click();
  await expect.poll(() => brand.getByRole('heading', { name: 'Overview' }).count()).toBe(1);
  await shot(brand, 'overview-empty');

  await nav(brand, 'Programs');
  await brand.getByRole('button', { name: 'New program' }).click();
  await brand.getByLabel('Program name').fill('Coffee creators');
  await brand.getByLabel('Where partner links send visitors').fill('https://northwind.example.com');
  await brand.getByRole('button', { name: 'Create program' }).click();
  await expect.poll(() => brand.getByRole('heading', { name: 'Coffee creators' }).count()).toBe(1);

  await nav(brand, 'Settings');
  await brand.getByRole('button', { name: 'New API key' }).click();
  await brand.getByLabel('Name', { exact: true }).fill('Checkout');
  await brand.getByRole('button', { name: 'Create key' }).click();
  await expect.poll(async () => (await brand.getByTestId('new-api-key').textContent()) ?? '').toMatch(/^tdm_sk_/);
  apiKey = (await brand.getByTestId('new-api-key').textContent())!.trim();
  await brand.getByRole('button', { name: 'I have stored it' }).click();

  await nav(brand, 'Partners');
  await expect.poll(() => brand.getByText('No partners yet').count()).toBe(1);
  await brand.getByRole('button', { name: 'Add your first partner' }).click();
  const addPartner = brand.getByRole('dialog', { name: 'Add a partner' });
  await addPartner.getByLabel('Partner name').fill('Casey Creator');
  await addPartner.getByLabel('Partner email').fill(partnerEmail);
  await addPartner.getByLabel('Tags').fill('creator, video');
  await brand.getByRole('dialog', { name: 'Add a partner' }).getByRole('button', { name: 'Add partner' }).click();
  const row = brand.getByRole('table', { name: 'Enrollments' }).getByRole('row', { name: /Casey Creator/ });
  await expect.poll(() => row.count()).toBe(1);
  expect(await row.textContent()).toContain('approved');
  await brand.getByRole('button', { name: 'Edit tags of Casey Creator' }).click();
  await brand.getByRole('dialog', { name: 'Tags of Casey Creator' }).getByLabel('Tags').fill('creator, video, vip');
  await brand.getByRole('button', { name: 'Save tags' }).click();
  await expect.poll(async () => (await row.textContent()) ?? '').toContain('vip');
  await brand.getByLabel('Filter by tag').fill('vip');
  await brand.getByLabel('Filter by tag').press('Enter');
  await expect.poll(() => brand.getByRole('table', { name: 'Enrollments' }).locator('tbody > tr').count()).toBe(1);
  await shot(brand, 'partners');
  const statement = await brand.evaluate(async () => {
    const res = await fetch(document.querySelector<HTMLAnchorElement>('a[aria-label="Statement of Casey Creator"]')!.href);
    return { status: res.status, type: res.headers.get('content-type') };
  });
  expect(statement).toMatchObject({ status: 200, type: expect.stringContaining('text/html') });
});

it('partner: signs up to the portal, confirms its email, sees the program and copies its link', async () => {
  const mailsBefore = server.mailCount();
  await partner.goto(`${server.baseUrl}/portal/signup`);
  await partner.getByLabel('Your name').fill('Casey Creator');
  await partner.getByLabel('Email').fill(partnerEmail);
  await partner.getByLabel('Password').fill('another long password');
  await partner.getByRole('button', { name: 'Create partner account' }).click();
  await expect.poll(() => partner.getByRole('heading', { name: 'My programs' }).count()).toBe(1);
  // Until the address is confirmed the brand's program stays hidden, and the portal says why.
  await expect.poll(() => partner.getByRole('region', { name: 'Confirm your email' }).count()).toBe(1);
  expect(await partner.getByTestId('partner-link').count()).toBe(0);
  expect(await partner.getByText('No programs yet').count()).toBe(0);
  await shot(partner, 'portal-confirm-email');

  const mail = await server.waitForMail(partnerEmail, mailsBefore);
  const link = /http:\/\/\S+\/portal\/verify-email\?token=\S+/.exec(mail.text)?.[0];
  expect(link, mail.text).toBeDefined();
  await partner.goto(link!);
  await expect.poll(() => partner.getByRole('heading', { name: 'Email confirmed' }).count()).toBe(1);
  await partner.getByRole('link', { name: 'See my programs' }).click();
  await expect.poll(() => partner.getByRole('heading', { name: 'My programs' }).count()).toBe(1);
  await expect.poll(() => partner.getByTestId('partner-link').count()).toBe(1);
  expect(await partner.getByRole('region', { name: 'Confirm your email' }).count()).toBe(0);
  partnerLink = (await partner.getByTestId('partner-link').textContent())!.trim();
  expect(partnerLink).toMatch(/\/r\/[\w-]+$/);
  await partner.getByRole('button', { name: `Copy link: ${partnerLink}` }).click();
  await expect.poll(() => partner.evaluate(() => navigator.clipboard.readText())).toBe(partnerLink);
  await expect.poll(() => partner.getByText('Copied to the clipboard').count()).toBe(1);
  await shot(partner, 'portal-programs');

  await partner.getByRole('link', { name: /welcome kit/i }).click();
  await expect.poll(() => partner.getByRole('heading', { name: 'Coffee creators' }).count()).toBe(1);
  await expect.poll(() => partner.getByRole('list', { name: 'Milestones' }).getByRole('listitem').count()).toBeGreaterThan(0);
  expect(await partner.getByText(partnerLink, { exact: false }).count()).toBeGreaterThan(0);
  const ics = await partner.evaluate(async () => {
    const href = document.querySelector<HTMLAnchorElement>('a[download][href*="calendar.ics"]')!.href;
    const res = await fetch(href);
    return { type: res.headers.get('content-type'), body: await res.text() };
  });
  expect(ics.type).toContain('text/calendar');
  expect(ics.body).toContain('BEGIN:VCALENDAR');
  await shot(partner, 'portal-welcome-kit');
  await partner.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My programs' }).click();
});

it('a click and a tracked sale appear on the brand overview without reload', async () => {
  await nav(brand, 'Overview');
  await expect.poll(() => brand.getByRole('radio', { name: '30 days' }).count()).toBe(1);
  const stat = (label: string) =>
    brand
      .getByLabel('Totals')
      .locator('div', { has: brand.getByText(label, { exact: true }) })
      .last();
  await expect.poll(async () => (await stat('Sales').textContent()) ?? '').toContain('0');

  const click = await fetch(partnerLink, {
    redirect: 'manual',
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36' },
  });
  expect(click.status).toBe(302);
  const clickId = new URL(click.headers.get('location')!).searchParams.get('tdm_click');
  expect(clickId).toMatch(/^clk_/);
  await api('POST', '/api/v1/track/sale', {
    customer: { externalId: `cust-${stamp}` },
    amount: 29900,
    currency: 'USD',
    invoiceId: `inv-${stamp}`,
    clickId,
  });

  // No reload: the event stream refreshes the figures.
  await expect.poll(async () => (await stat('Sales').textContent()) ?? '', { timeout: 15_000 }).toMatch(/Sales1\b/);
  await expect.poll(async () => (await stat('Clicks').textContent()) ?? '', { timeout: 15_000 }).toMatch(/Clicks1\b/);
  await expect
    .poll(
      () =>
        brand
          .getByRole('list', { name: 'Live activity' })
          .getByText(/Sale created/)
          .count(),
      { timeout: 15_000 },
    )
    .toBeGreaterThan(0);
  await shot(brand, 'overview');

  // Top partners and segment quality, from the same rollups.
  const topRow = brand.getByRole('table', { name: 'Top partners' }).getByRole('row', { name: /Casey Creator/ });
  await expect.poll(async () => (await topRow.textContent()) ?? '', { timeout: 15_000 }).toContain('$299.00');
  expect(await topRow.textContent()).toContain('100%');
  const segmentRows = brand.getByRole('table', { name: 'Segment quality' }).locator('tbody > tr');
  await expect.poll(() => segmentRows.count()).toBe(3);
  expect((await segmentRows.allTextContents()).map((t) => t.slice(0, t.indexOf('1')))).toEqual(['creator', 'video', 'vip']);
  await brand.getByRole('table', { name: 'Segment quality' }).scrollIntoViewIfNeeded();
  await shot(brand, 'overview-insights');
});

it('the commission appears on both sides without reload, is released from review, matures, is paid out and the CSV downloads', async () => {
  await nav(brand, 'Commissions');
  const rows = brand.getByRole('table', { name: 'Commissions' }).locator('tbody > tr');
  await expect.poll(() => rows.count()).toBe(1);
  await expect.poll(async () => (await rows.first().textContent()) ?? '').toContain('Casey Creator');
  // A second sale by the same customer while the page is open: it appears without reload.
  await api('POST', '/api/v1/track/sale', {
    customer: { externalId: `cust-${stamp}` },
    amount: 29900,
    currency: 'USD',
    invoiceId: `inv-${stamp}-2`,
  });
  await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
  // …and on the partner's side too, pushed by the partner's own event stream.
  const partnerFeed = partner.getByRole('list', { name: 'Live activity' });
  await expect.poll(async () => (await partnerFeed.textContent()) ?? '', { timeout: 15_000 }).toContain('New commission · $59.80');
  await brand.getByRole('button', { name: 'Why this amount?' }).first().click();
  await expect.poll(() => brand.getByRole('list', { name: 'Explanation' }).count()).toBe(1);

  // The visitor, the buyer and the partner share one IP address here, so the fraud checks hold both
  // commissions for review, with the signals that held them; the brand reviews and releases them.
  const held = brand.getByRole('list', { name: 'Held commissions' }).locator(':scope > li');
  await expect.poll(() => held.count()).toBe(2);
  expect(await held.first().textContent()).toContain('self_referral');
  await shot(brand, 'commissions');
  await brand.getByLabel('Reason for your decision').fill('Known creator; checked the orders by hand');
  await brand
    .getByRole('button', { name: /^Release/ })
    .first()
    .click();
  await expect.poll(() => held.count()).toBe(1);
  await brand
    .getByRole('button', { name: /^Release/ })
    .first()
    .click();
  await expect.poll(() => held.count()).toBe(0);

  await brand.getByRole('button', { name: 'Run maturity now' }).click();
  await expect.poll(() => brand.getByText('2 commissions became payable').count()).toBe(1);
  await brand.getByRole('table', { name: 'Commissions' }).getByRole('button', { name: 'Why this amount?' }).first().click();
  await brand.getByLabel('Filter by status').selectOption('payable');
  await expect.poll(() => rows.count()).toBe(2);

  await nav(brand, 'Payouts');
  await brand.getByRole('button', { name: 'Run payout batch' }).click();
  await expect.poll(() => brand.getByText(/Batch created with 1 payout/).count()).toBe(1);
  const csv = await brand.evaluate(async () => {
    const href = [...document.querySelectorAll<HTMLAnchorElement>('a[download]')].find((a) => a.textContent === 'Download CSV')!.href;
    const res = await fetch(href);
    return { type: res.headers.get('content-type'), body: await res.text() };
  });
  expect(csv.type).toContain('text/csv');
  expect(csv.body.split('\n').length).toBeGreaterThan(1);
  await brand.getByRole('button', { name: 'Mark paid Casey Creator' }).click();
  await brand.getByLabel('Payment reference').fill(`WIRE-${stamp}`);
  await brand.getByRole('dialog', { name: 'Mark payout paid' }).getByRole('button', { name: 'Mark paid' }).click();
  const payoutRow = brand.getByRole('table', { name: 'Payouts' }).getByRole('row', { name: /Casey Creator/ });
  await expect.poll(async () => (await payoutRow.textContent()) ?? '').toContain('paid');
  await brand.getByRole('button', { name: 'Verify ledger' }).click();
  await expect.poll(async () => (await brand.getByRole('status').filter({ hasText: 'entries in' }).textContent()) ?? '').toMatch(/intact/);
  await shot(brand, 'payouts');
  await expect.poll(async () => (await partnerFeed.textContent()) ?? '', { timeout: 15_000 }).toMatch(/Payout paid · \$\d/);
  await shot(partner, 'portal-live');
  await nav(brand, 'Commissions');
  await brand.getByLabel('Filter by status').selectOption('paid');
  await expect.poll(() => rows.count()).toBe(2);
});

it('partner: sees its earnings over time and verifies its statement against the chain head', async () => {
  await partner.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Earnings' }).click();
  await expect.poll(() => partner.getByRole('heading', { name: 'Earnings' }).count()).toBe(1);
  const totals = partner.getByRole('region', { name: 'Earnings totals' });
  await expect.poll(async () => (await totals.textContent()) ?? '').toMatch(/Paid\$[1-9]/);
  // The totals are the partner's ledger balance, as the API sums it.
  const balance = await partner.evaluate(async () => {
    const list = await (await fetch('/api/v1/portal/enrollments')).json();
    return (await fetch(`/api/v1/portal/enrollments/${list.data[0].id}/balance`)).json();
  });
  expect(balance.paid).toBeGreaterThan(0);
  const text = (await totals.textContent()) ?? '';
  expect(text).toContain(`Paid$${(balance.paid / 100).toFixed(2)}`);
  expect(text).toContain(`Pending$${(balance.pending / 100).toFixed(2)}`);
  const commissions = partner.getByRole('table', { name: 'My commissions' }).locator('tbody > tr');
  await expect.poll(() => commissions.count()).toBe(2);
  expect(await commissions.allTextContents()).toEqual([expect.stringContaining('paid'), expect.stringContaining('paid')]);
  await expect
    .poll(() =>
      partner
        .getByRole('img', { name: /balances per day/ })
        .locator('canvas')
        .count(),
    )
    .toBeGreaterThan(0);
  await partner.getByRole('radio', { name: 'Monthly' }).click();
  await expect.poll(() => partner.getByRole('img', { name: /balances per month/ }).count()).toBe(1);
  await shot(partner, 'portal-earnings');

  await partner.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Statements' }).click();
  await expect.poll(async () => (await partner.getByTestId('chain-head').textContent()) ?? '').toMatch(/^[0-9a-f]{64}$/);
  const head = (await partner.getByTestId('chain-head').textContent())!;
  expect(await partner.getByRole('table', { name: 'Statement lines' }).locator('tbody > tr').count()).toBeGreaterThanOrEqual(4);
  await partner.getByLabel('Hash from an earlier statement (optional)').fill(head);
  await partner.getByRole('button', { name: 'Verify', exact: true }).click();
  const result = partner.getByRole('status', { name: 'Verification result' });
  await expect.poll(async () => (await result.textContent()) ?? '').toMatch(/^Verified: \d+ entries recomputed, every hash matches/);
  expect(await result.textContent()).toMatch(/The hash you gave is entry \d+ of your chain/);
  await shot(partner, 'portal-statements');
  await partner.getByLabel('Hash from an earlier statement (optional)').fill('0'.repeat(64));
  await partner.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect.poll(async () => (await result.textContent()) ?? '').toContain('Verification failed');
  expect(await result.textContent()).toContain('is not in your chain');
  const csv = await partner.evaluate(async () => {
    const res = await fetch(document.querySelector<HTMLAnchorElement>('a[download][href$="statement.csv"]')!.href);
    return { type: res.headers.get('content-type'), body: await res.text() };
  });
  expect(csv.type).toContain('text/csv');
  expect(csv.body.trim().split('\r\n').at(-1)).toContain(head);
  await partner.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My programs' }).click();
});

it('an application is approved by a council vote', async () => {
  await nav(brand, 'Programs');
  await brand.getByRole('link', { name: 'Coffee creators' }).click();
  await brand.getByLabel('Approval', { exact: true }).selectOption('council');
  await brand.getByRole('group', { name: 'Reviewers' }).getByRole('checkbox').first().check();
  await brand.getByLabel('Approvals needed (quorum)').fill('1');
  await brand.getByRole('button', { name: 'Save approval settings' }).click();
  await expect.poll(() => brand.getByText('Approval settings saved').count()).toBe(1);
  const applyPath = await brand.getByRole('link', { name: /^\/apply\// }).getAttribute('href');
  // The live preview evaluates the rules being edited for a real partner of the program.
  await expect.poll(async () => (await brand.getByTestId('preview-amount').textContent()) ?? '').toMatch(/Earns \$20\.00/);
  await brand.getByLabel('Rules document (JSON)').fill('{"sale": {"type": "percentage", "amount": 35}}');
  await expect.poll(async () => (await brand.getByTestId('preview-amount').textContent()) ?? '').toMatch(/Earns \$35\.00/);
  await shot(brand, 'program');

  const applicantContext = await browser.newContext();
  const applicant = await applicantContext.newPage();
  const applicantErrors = collectConsoleErrors(applicant);
  await applicant.goto(`${server.baseUrl}${applyPath}`);
  await applicant.getByLabel('Your name').fill('Jordan Vlogger');
  await applicant.getByLabel('Email').fill(`jordan-${stamp}@example.com`);
  await applicant.getByLabel('Website or channel').fill('https://youtube.example.com/jordan');
  await applicant.getByLabel('Audience size').fill('48000');
  await applicant.getByLabel('Why you would be a great partner').fill('I review coffee gear every week.');
  await applicant.getByRole('button', { name: /^Apply/ }).click();
  await expect.poll(() => applicant.getByRole('status').textContent()).toContain('reviews applications');
  await shot(applicant, 'apply');
  expect(applicantErrors).toEqual([]);
  await applicantContext.close();

  await nav(brand, 'Partners');
  const card = brand.getByRole('listitem').filter({ hasText: 'Jordan Vlogger' });
  await expect.poll(() => card.count()).toBe(1);
  await shot(brand, 'applications');
  await card.getByLabel('Comment (optional)').fill('Great fit for the holiday push');
  await brand.getByRole('button', { name: 'Approve Jordan Vlogger' }).click();
  await expect.poll(() => brand.getByText('Application approved').count()).toBe(1);
  const row = brand.getByRole('table', { name: 'Enrollments' }).getByRole('row', { name: /Jordan Vlogger/ });
  await expect.poll(async () => (await row.textContent()) ?? '').toContain('approved');
  // A partner who breaks the rules can be banned from the same table.
  await brand.getByRole('button', { name: 'Ban Jordan Vlogger' }).click();
  await expect.poll(async () => (await row.textContent()) ?? '').toContain('banned');
});

it('a dispute filed by the partner is accepted by the brand', async () => {
  await partner.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Disputes' }).click();
  await partner.getByRole('button', { name: 'File a dispute' }).first().click();
  const form = partner.getByRole('dialog', { name: 'File a dispute' });
  await form.getByLabel('Order or invoice id').fill(`order-${stamp}`);
  await form.getByLabel('Day of the sale').fill(new Date().toISOString().slice(0, 10));
  await form.getByLabel('Customer email').fill('friend@example.com');
  await form.getByLabel('What happened').fill('My friend bought with my code but no commission appeared.');
  await form.getByRole('button', { name: 'File dispute' }).click();
  await expect
    .poll(() =>
      partner
        .getByRole('dialog', { name: 'Dispute' })
        .getByText(/the brand answers by/)
        .count(),
    )
    .toBe(1);
  await shot(partner, 'portal-dispute');
  await partner.keyboard.press('Escape');

  await nav(brand, 'Disputes');
  await brand.getByRole('button', { name: new RegExp(`Missing credit: Order order-${stamp}`) }).click();
  const dialog = brand.getByRole('dialog', { name: 'Dispute' });
  await dialog.getByLabel('Reason (the partner sees it)').fill('Found the order; crediting you.');
  await dialog.getByLabel('If accepted').selectOption('adjustment');
  await dialog.getByLabel('Adjustment (minor units)').fill('750');
  await shot(brand, 'dispute');
  await dialog.getByRole('button', { name: 'Accept dispute' }).click();
  await expect.poll(() => brand.getByText('Dispute accepted').count()).toBe(1);
  await brand.keyboard.press('Escape');

  await partner.reload();
  const mine = partner.getByRole('table', { name: 'My disputes' }).getByRole('row', { name: new RegExp(`order-${stamp}`) });
  await expect.poll(async () => (await mine.textContent()) ?? '').toContain('accepted');
});

it('new terms are published by the brand and accepted by the partner', async () => {
  await nav(brand, 'Programs');
  await brand.getByRole('link', { name: 'Coffee creators' }).click();
  await brand.getByLabel('Program terms partners accept').fill('Disclose the partnership in every post. No paid search on our brand name.');
  await brand.getByRole('button', { name: 'Publish terms' }).click();
  await expect.poll(() => brand.getByText(/Terms saved as version/).count()).toBe(1);

  await partner.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My programs' }).click();
  await partner.reload();
  const banner = partner.getByRole('region', { name: 'Terms to accept' });
  await expect.poll(() => banner.count()).toBe(1);
  expect(await banner.textContent()).toMatch(/Accept them before/);
  await shot(partner, 'portal-terms');
  await banner.getByRole('button', { name: /Accept terms v/ }).click();
  await expect.poll(() => partner.getByText('Terms accepted').count()).toBe(1);
  await expect.poll(() => banner.count()).toBe(0);
});

it('left no console errors on either side', () => {
  // The first /me probe of a signed-out visitor answers 401 by design; nothing else may fail.
  expect(brandErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  expect(partnerErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
});
