import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { freePort } from '../db/embedded.js';
import { DEMO_EMAIL, DEMO_PASSWORD } from './demo.js';

/*
 * The first `tandem serve` on an empty database (TANDEM_DEMO=auto) answers /healthz at once and
 * seeds the demo in the background, logging the logins when done.
 */

const serverRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let child: ChildProcess | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

it('answers /healthz within 15 s on a first start while the demo is seeded in the background, then the demo login works', async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-demo-start-'));
  await fs.chmod(dataDir, 0o755);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', TANDEM_DEMO: 'auto' };
  delete env.DATABASE_URL; // a first start: a brand-new embedded database
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', String(port), '--data-dir', dataDir, '--host', '127.0.0.1'], {
    cwd: serverRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = server;
  let log = '';
  server.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));

  const started = Date.now();
  let healthyAfterMs: number | null = null;
  while (Date.now() - started < 15_000 && healthyAfterMs === null) {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
    if (res?.ok) healthyAfterMs = Date.now() - started;
    else await new Promise((r) => setTimeout(r, 100));
  }
  expect(healthyAfterMs, log).not.toBeNull();
  expect(log).not.toContain('Demo ready'); // /healthz did not wait for the seeding

  while (!log.includes('Demo ready') && !log.includes('demo seeding failed') && Date.now() - started < 150_000) {
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(log).toContain('Demo ready');
  expect(log).toContain(`${DEMO_EMAIL} / ${DEMO_PASSWORD}`);
  expect(log).toMatch(/API key \(Northwind Coffee\)\s+tdm_sk_/);

  const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: DEMO_EMAIL, password: DEMO_PASSWORD }),
  });
  expect(login.status).toBe(200);

  server.kill('SIGTERM');
  expect(await new Promise((r) => server.once('exit', r))).toBe(0);
}, 180_000);
