import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { collectConsoleErrors, launchBrowser, shot, startServer, type E2eServer } from './server.js';

let server: E2eServer;
let browser: Browser;
beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

it('renders in dark mode when the system asks for it', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 }, colorScheme: 'dark' });
  const errors = collectConsoleErrors(page);
  await page.goto(`${server.baseUrl}/signup`);
  await page.getByLabel('Your name').fill('Night Owl');
  await page.getByLabel('Brand name').fill('Moonlight Tea');
  await page.getByLabel('Work email').fill(`owl-${Date.now()}@example.com`);
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: /create workspace/i }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Overview' }).count()).toBe(1);
  const background = await page.locator('main#main').evaluate((el) => getComputedStyle(el.parentElement!).backgroundColor);
  // slate-950 in dark mode, not the light slate-50.
  expect(background).not.toBe('rgb(248, 250, 252)');
  await shot(page, 'overview-dark');
  expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
});

it('signs up, creates a program, edits its rules with live validation and creates an API key shown once', async () => {
  const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  const errors = collectConsoleErrors(page);
  await page.goto(server.baseUrl);
  await expect.poll(() => page.url()).toContain('/login');
  await shot(page, 'login');
  await page.getByRole('link', { name: /create a workspace/i }).click();
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByLabel('Brand name').fill('Analytical Engines');
  const email = `ada-${Date.now()}@example.com`;
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: /create workspace/i }).click();
  // The server's field error is shown under the field it names.
  await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('10 characters');
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: /create workspace/i }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Overview' }).count()).toBe(1);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Programs' }).click();
  await expect.poll(() => page.getByText('No programs yet').count()).toBe(1);
  await page.getByRole('button', { name: 'Create your first program' }).click();
  await page.getByLabel('Program name').fill('Creator program');
  await page.getByLabel('Where partner links send visitors').fill('not a url');
  await page.getByRole('button', { name: 'Create program' }).click();
  await expect.poll(() => page.getByText('must be an http(s) URL').count()).toBe(1);
  await page.getByLabel('Where partner links send visitors').fill('https://engines.example.com');
  await page.getByRole('button', { name: 'Create program' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Creator program' }).count()).toBe(1);

  const rules = page.getByLabel('Rules document (JSON)');
  await rules.fill('{"sale": {"type": "percentage", "amount": 120}}');
  await expect.poll(() => page.getByText('sale.amount').count()).toBeGreaterThan(0);
  expect(await page.getByRole('button', { name: 'Save as new version' }).isDisabled()).toBe(true);
  await rules.fill(
    JSON.stringify(
      { sale: { type: 'percentage', amount: 25 }, lead: { type: 'flat', amount: 200 }, qualification: { holdDays: 30 } },
      null,
      2,
    ),
  );
  await expect.poll(() => page.getByText('Valid', { exact: true }).count()).toBe(1);
  await page.getByRole('button', { name: 'Save as new version' }).click();
  await expect.poll(() => page.getByText('Reward rules · version 2').count()).toBe(1);
  await shot(page, 'program-rules');

  // Editing the details names the field the server refused.
  await page.getByLabel('Destination URL').fill('ftp://engines.example.com');
  await page.getByRole('button', { name: 'Save details' }).click();
  await expect.poll(() => page.getByText('must be an http(s) URL').count()).toBe(1);
  await page.getByLabel('Destination URL').fill('https://engines.example.com/shop');
  await page.getByLabel('Attribution window (days)').fill('45');
  await page.getByRole('button', { name: 'Save details' }).click();
  await expect.poll(() => page.getByText('https://engines.example.com/shop', { exact: true }).count()).toBe(1);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'New API key' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Checkout backend');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect.poll(async () => (await page.getByTestId('new-api-key').textContent()) ?? '').toMatch(/^tdm_sk_/);
  await page.getByRole('button', { name: 'I have stored it' }).click();
  await expect.poll(() => page.getByRole('table', { name: 'API keys' }).getByText('Checkout backend').count()).toBe(1);
  await page.getByRole('button', { name: 'Add endpoint' }).first().click();
  const hook = page.getByRole('dialog', { name: 'Add a webhook endpoint' });
  await hook.getByLabel('Endpoint URL').fill('https://hooks.example.com/tandem');
  await hook.getByRole('button', { name: 'Add endpoint' }).click();
  await expect
    .poll(async () => (await page.getByRole('dialog', { name: 'Copy your signing secret now' }).textContent()) ?? '')
    .toContain('whsec_');
  await page.keyboard.press('Escape');
  await expect
    .poll(() => page.getByRole('table', { name: 'Webhook endpoints' }).getByText('https://hooks.example.com/tandem').count())
    .toBe(1);
  await expect.poll(() => page.getByRole('table', { name: 'Audit log' }).getByText('api_key.created').count()).toBe(1);
  await shot(page, 'settings');

  // Signing out and back in with the keyboard alone.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).count()).toBe(1);
  await page.getByLabel('Email').focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type('a long enough password');
  await page.keyboard.press('Enter');
  await expect.poll(() => page.getByRole('heading', { name: 'Overview' }).count()).toBe(1);
  // The skip link is the first stop for keyboard users.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');

  // A phone-width visit: the sidebar turns into a menu and every section stays reachable.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.locator('#mobile-nav').getByRole('link', { name: 'Programs' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Programs' }).count()).toBe(1);
  await shot(page, 'phone-programs');

  // The only expected console noise is the 401 of the first /me probe before signing in and the
  // 422s of the deliberately invalid forms.
  expect(errors.filter((e) => !/status of (401|422)/.test(e))).toEqual([]);
});

it('resets a forgotten password through the mailed link and signs in with the new one', async () => {
  const email = `forgetful-${Date.now()}@example.com`;
  const signup = await fetch(`${server.baseUrl}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'the forgotten password', name: 'Fran Forgetful', workspaceName: 'Forgetful Co' }),
  });
  expect(signup.status).toBe(201);
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const errors = collectConsoleErrors(page);
  await page.goto(`${server.baseUrl}/login`);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  const mailsBefore = server.mailCount();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Mail me a link' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Check your mail' }).count()).toBe(1);

  const mail = await server.waitForMail(email, mailsBefore);
  const link = /http:\/\/\S+\/reset-password\?token=\S+/.exec(mail.text)?.[0];
  expect(link, mail.text).toBeDefined();
  await page.goto(link!);
  await page.getByLabel('New password').fill('a brand new password');
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Password set' }).count()).toBe(1);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('a brand new password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Overview' }).count()).toBe(1);
  expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
});
