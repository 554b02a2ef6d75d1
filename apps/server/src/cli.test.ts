import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './db/embedded.js';

const serverRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const children: ChildProcess[] = [];

function startServer(port: number, dataDir: string): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', TANDEM_DEMO: '0' };
  delete env.DATABASE_URL; // this test is about the embedded PostgreSQL's lifecycle
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', String(port), '--data-dir', dataDir, '--host', '127.0.0.1'], {
    cwd: serverRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

async function waitForHealth(port: number, timeoutMs: number): Promise<{ ms: number; body: unknown }> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return { ms: Date.now() - started, body: await res.json() };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no /healthz on ${port} within ${timeoutMs} ms`);
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await fs.readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('tandem serve with the embedded PostgreSQL', () => {
  it('starts fresh, survives kill -9 of the previous run, and stops its database on SIGTERM', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-cli-'));
    await fs.chmod(dataDir, 0o755);
    const port = await freePort();
    try {
      const first = startServer(port, dataDir);
      const health = await waitForHealth(port, 15_000);
      expect(health.body).toEqual({ status: 'ok', db: 'embedded' });
      const orphan = await postmasterPid(dataDir);

      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      expect(alive(orphan)).toBe(true); // the database outlived its parent

      const second = startServer(port, dataDir);
      expect((await waitForHealth(port, 15_000)).body).toEqual({ status: 'ok', db: 'embedded' });
      expect(alive(orphan)).toBe(false);
      const current = await postmasterPid(dataDir);

      second.kill('SIGTERM');
      const code = await new Promise((r) => second.once('exit', r));
      expect(code).toBe(0);
      expect(alive(current)).toBe(false);
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('prints help listing every command', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--help'], { cwd: serverRoot });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((r) => child.once('exit', r));
    for (const command of ['serve', 'migrate', 'demo', '--port', '--data-dir']) expect(out).toContain(command);
  });
});
