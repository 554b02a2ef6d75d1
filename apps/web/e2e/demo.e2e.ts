import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { collectConsoleErrors, launchBrowser, shot } from './server.js';

/*
 * The README's pictures, taken on the seeded demo: a real `tandem serve` with TANDEM_DEMO=auto on a
 * fresh embedded PostgreSQL, then the brand console (Northwind Coffee) and the partner portal
 * (Casey Creator), signed in through the UI like a user, full of ~90 days of believable data.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const password = 'tandem-demo-password';
const DEMO_TIMEOUT = 150_000;

let child: ChildProcess | undefined;
let dataDir = '';
let baseUrl = '';
let browser: Browser;
let startedAt = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `tandem serve` with the demo seeded and resolves once it logs "Demo ready". */
async function startDemoServer(): Promise<void> {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-e2e-demo-'));
  await fs.chmod(dataDir, 0o755);
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, TANDEM_DEMO: 'auto', LOG_LEVEL: 'info', TANDEM_PUBLIC_URL: baseUrl };
  delete env.DATABASE_URL;
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'apps/server/src/cli.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = proc;
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Demo ready" within ${DEMO_TIMEOUT / 1000} s:\n${log.slice(-4000)}`)), DEMO_TIMEOUT);
    const done = (err?: Error) => {
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Demo ready')) done();
      else if (log.includes('demo seeding failed')) done(new Error(`demo seeding failed:\n${log.slice(-4000)}`));
    };
    const onExit = (code: number | null) => done(new Error(`server exited (${code}) before the demo was ready:\n${log.slice(-4000)}`));
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    proc.on('exit', onExit);
  });
  // Keep draining the pipes so a chatty server never blocks on a full buffer.
  proc.stdout!.resume();
}

async function stopDemoServer(): Promise<void> {
  const proc = child;
  child = undefined;
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
}

beforeAll(async () => {
  startedAt = Date.now();
  await startDemoServer();
  browser = await launchBrowser();
}, DEMO_TIMEOUT + 30_000);

afterAll(async () => {
  await browser?.close();
  await stopDemoServer();
  console.log(`demo.e2e: ${((Date.now() - startedAt) / 1000).toFixed(1)} s including the demo seeding`);
}, 60_000);

async function signIn(page: Page, email: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

it('brand console of the demo: overview, partners, commissions and partnership', async () => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);

  await signIn(page, 'demo@tandem.local');
  await expect.poll(() => page.getByRole('heading', { name: 'Overview' }).count()).toBe(1);
  await page.getByRole('radio', { name: '90 days' }).click();
  await expect.poll(() => page.getByRole('radio', { name: '90 days' }).getAttribute('aria-checked')).toBe('true');
  // Ninety days of seeded traffic: thousands of clicks, not an empty dashboard.
  await expect.poll(async () => (await page.getByLabel('Totals').textContent()) ?? '').toMatch(/Clicks\s*\d{1,3},\d{3}/i);
  await shot(page, 'demo-overview');

  await nav(page, 'Partners');
  const enrollments = page.getByRole('table', { name: 'Enrollments' }).locator('tbody > tr');
  await expect.poll(() => enrollments.count()).toBeGreaterThan(5);
  await shot(page, 'demo-partners');

  await nav(page, 'Commissions');
  await expect.poll(() => page.getByRole('table', { name: 'Commissions' }).locator('tbody > tr').count()).toBeGreaterThan(3);
  await expect.poll(() => page.getByRole('list', { name: 'Held commissions' }).getByRole('listitem').count()).toBeGreaterThan(0);
  await shot(page, 'demo-commissions');

  await nav(page, 'Partnerships');
  await expect.poll(() => page.getByRole('list', { name: 'Directions' }).count()).toBeGreaterThan(0);
  await shot(page, 'demo-partnership');

  // The first /me probe of a signed-out visitor answers 401 by design; nothing else may fail.
  expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  await context.close();
}, 90_000);

it('partner portal of the demo as Casey Creator', async () => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);

  await signIn(page, 'creator@tandem.local');
  await expect.poll(() => page.getByRole('heading', { name: 'My programs' }).count()).toBe(1);
  await expect.poll(() => page.getByTestId('partner-link').count()).toBeGreaterThan(0);

  // The earnings page: balances, their history and the commissions, Casey's side of the ledger.
  await nav(page, 'Earnings');
  await expect.poll(() => page.getByRole('heading', { name: 'Earnings' }).count()).toBe(1);
  await expect.poll(() => page.getByRole('table', { name: 'My commissions' }).locator('tbody > tr').count()).toBeGreaterThan(0);
  await expect.poll(() => page.getByRole('img', { name: /balances per day/ }).locator('canvas').count()).toBeGreaterThan(0);
  await shot(page, 'demo-portal');

  expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  await context.close();
}, 90_000);
