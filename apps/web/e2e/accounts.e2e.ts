import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import path from 'node:path';
import { collectConsoleErrors, launchBrowser, screenshotsDir, startServer, type E2eServer } from './server.js';

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

it('signs up through the UI and lands in the new workspace', async () => {
  const page = await browser.newPage();
  const errors = collectConsoleErrors(page);
  await page.goto(server.baseUrl);
  await page.getByRole('button', { name: /create a workspace/i }).click();
  await page.getByPlaceholder('Your name').fill('Ada Lovelace');
  await page.getByPlaceholder('Brand name').fill('Analytical Engines');
  await page.getByPlaceholder('Email').fill(`ada-${Date.now()}@example.com`);
  await page.getByPlaceholder('Password').fill('a long enough password');
  await page.getByRole('button', { name: /sign up/i }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Analytical Engines' }).count()).toBe(1);
  await page.screenshot({ path: path.join(screenshotsDir, 'signed-in.png') });
  // The only expected console noise is the 401 of the initial /me probe before signing up.
  expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
});
