import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { collectConsoleErrors, launchBrowser, shot, startServer, type E2eServer } from './server.js';

/* Two brands form a reciprocal partnership in the UI and both see the balance both ways. */

let server: E2eServer;
let browser: Browser;
const stamp = Date.now();
beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function brandWithProgram(name: string, email: string, program: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);
  await page.goto(`${server.baseUrl}/signup`);
  await page.getByLabel('Your name').fill(`${name} owner`);
  await page.getByLabel('Brand name').fill(name);
  await page.getByLabel('Work email').fill(email);
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: /create workspace/i }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Overview' }).count()).toBe(1);
  await page.goto(`${server.baseUrl}/programs`);
  await page.getByRole('button', { name: 'New program' }).click();
  await page.getByLabel('Program name').fill(program);
  await page.getByLabel('Where partner links send visitors').fill(`https://${name.toLowerCase().replace(/\W+/g, '')}.example.com`);
  await page.getByRole('button', { name: 'Create program' }).click();
  await expect.poll(() => page.getByRole('heading', { name: program }).count()).toBe(1);
  return { page, errors };
}

it('one brand invites another, the other accepts, and both see the same balance both ways', async () => {
  const bakery = await brandWithProgram('Sunrise Bakery', `bakery-${stamp}@example.com`, 'Bakery friends');
  const roaster = await brandWithProgram('Hilltop Roasters', `roaster-${stamp}@example.com`, 'Roaster friends');

  await bakery.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Partnerships' }).click();
  await expect.poll(() => bakery.page.getByText('No partnerships yet').count()).toBe(1);
  await bakery.page.getByRole('button', { name: 'Invite a brand' }).first().click();
  await bakery.page.getByLabel('Brand to invite').fill(`roaster-${stamp}@example.com`);
  await bakery.page.getByLabel('Message').fill('Coffee and croissants belong together');
  await bakery.page.getByRole('dialog', { name: 'Invite a brand' }).getByRole('button', { name: 'Send invitation' }).click();
  await expect.poll(() => bakery.page.getByText(/Waiting for Hilltop Roasters/).count()).toBe(1);

  await roaster.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Partnerships' }).click();
  await expect.poll(() => roaster.page.getByRole('button', { name: 'Accept partnership' }).count()).toBe(1);
  await roaster.page.getByRole('button', { name: 'Accept partnership' }).click();
  await expect.poll(() => roaster.page.getByRole('list', { name: 'Directions' }).getByRole('listitem').count()).toBe(2);
  await shot(roaster.page, 'partnership');

  await bakery.page.reload();
  await expect.poll(() => bakery.page.getByRole('list', { name: 'Directions' }).getByRole('listitem').count()).toBe(2);
  const directions = async (page: Page) =>
    (await page.getByRole('list', { name: 'Directions' }).getByRole('listitem').allTextContents()).sort();
  expect(await directions(bakery.page)).toEqual(await directions(roaster.page));
  expect((await directions(bakery.page)).join(' ')).toContain('Sunrise Bakery → Hilltop Roasters');

  // Settling by netting: nothing is payable yet either way, so there is nothing to offset.
  const settlements = bakery.page.getByRole('region', { name: 'Settlements' });
  await expect.poll(() => settlements.getByText('No settlements yet.').count()).toBe(1);
  await settlements.getByRole('button', { name: 'Settle by netting' }).click();
  await expect.poll(() => bakery.page.getByText(/Nothing to net/).count()).toBe(1);

  // A scoped share link: a visitor without an account sees the same figures, until it is revoked.
  await bakery.page.getByRole('button', { name: 'Share', exact: true }).click();
  const share = bakery.page.getByRole('dialog', { name: 'Share this dashboard' });
  await share.getByLabel('Link expires after').selectOption('7');
  await share.getByRole('button', { name: 'Create share link' }).click();
  await expect.poll(async () => (await share.getByTestId('share-url').textContent()) ?? '').toMatch(/\/share\/[\w-]+$/);
  const shareUrl = (await share.getByTestId('share-url').textContent())!.trim();
  await shot(bakery.page, 'partnership-share-link');
  const visitorContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const visitor = await visitorContext.newPage();
  const visitorErrors = collectConsoleErrors(visitor);
  await visitor.goto(shareUrl);
  await expect.poll(() => visitor.getByRole('heading', { name: 'Sunrise Bakery ⇆ Hilltop Roasters' }).count()).toBe(1);
  await expect.poll(() => visitor.getByRole('list', { name: 'Directions' }).getByRole('listitem').count()).toBe(2);
  expect(await directions(visitor)).toEqual(await directions(bakery.page));
  expect(await visitor.getByTestId('net').allTextContents()).toEqual(await bakery.page.getByTestId('net').allTextContents());
  await expect
    .poll(() => visitor.getByRole('img', { name: 'Clicks and sales per day in each direction' }).locator('canvas').count())
    .toBeGreaterThan(0);
  const page = (await visitor.content()).toLowerCase();
  expect(page).not.toContain(`bakery-${stamp}@example.com`);
  expect(page).not.toContain(`roaster-${stamp}@example.com`);
  await shot(visitor, 'partnership-shared-dashboard');
  await share.getByRole('button', { name: /^Revoke share link/ }).click();
  await expect.poll(() => share.getByRole('list', { name: 'Active share links' }).count()).toBe(0);
  await visitor.reload();
  await expect.poll(async () => (await visitor.getByRole('alert').textContent()) ?? '').toContain('was revoked or has expired');
  expect(visitorErrors.filter((e) => !/status of 404/.test(e))).toEqual([]);
  await visitorContext.close();
  await bakery.page.keyboard.press('Escape');

  // Each brand is now a partner in the other's program.
  await bakery.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Partners', exact: true }).click();
  await expect.poll(() => bakery.page.getByRole('table', { name: 'Enrollments' }).getByText('Hilltop Roasters').count()).toBe(1);

  expect(bakery.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  expect(roaster.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
});
