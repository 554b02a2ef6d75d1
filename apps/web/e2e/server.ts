import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const screenshotsDir = path.join(repoRoot, 'docs/screenshots');

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface E2eServer {
  baseUrl: string;
  /** Waits for the newest mail to `to` (without SMTP the server writes each mail to its log). */
  waitForMail(to: string, after?: number): Promise<MailMessage>;
  /** How many mails the server wrote so far. */
  mailCount(): number;
  stop(): Promise<void>;
}

const PINO_WARN = 40;

/** A real `tandem serve` on a free port (embedded PostgreSQL in a temp dir, or DATABASE_URL). */
export async function startServer(): Promise<E2eServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-e2e-'));
  await fs.chmod(dataDir, 0o755);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'apps/server/src/cli.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir],
    {
      cwd: repoRoot,
      // Info level so that mail reaches the log (no SMTP here); only warnings and worse are shown.
      env: { ...process.env, LOG_LEVEL: 'info', TANDEM_SMTP_URL: '', TANDEM_DEMO: '0', TANDEM_PUBLIC_URL: `http://127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const mails: MailMessage[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: { level?: number; mail?: MailMessage } | undefined;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      entry = undefined;
    }
    if (entry?.mail) mails.push(entry.mail);
    if (!entry || (entry.level ?? PINO_WARN) >= PINO_WARN) process.stdout.write(`${line}\n`);
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  return {
    baseUrl,
    mailCount: () => mails.length,
    async waitForMail(to, after = 0) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const mail = mails.slice(after).findLast((m) => m.to === to);
        if (mail) return mail;
        if (Date.now() > deadline) throw new Error(`no mail to ${to} within 15 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a full-page screenshot of a main screen to docs/screenshots/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  await fs.mkdir(screenshotsDir, { recursive: true });
  // Let skeletons resolve and transitions settle so the picture shows the real screen.
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await page.waitForTimeout(300);
  // Toasts are transient confirmations; the picture is of the screen itself.
  await page.screenshot({
    path: path.join(screenshotsDir, `${name}.png`),
    fullPage: false,
    style: '[data-toasts] { display: none !important; }',
  });
}

/** Fails the test on any console error or uncaught page error. */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}
