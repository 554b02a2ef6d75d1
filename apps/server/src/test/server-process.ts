import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../db/embedded.js';

/** A real `tandem serve` process, for tests that need several processes on one database. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** Everything the process printed, for failure messages. */
  output: string[];
}

const serverRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Starts `tandem serve` on a free loopback port against `databaseUrl` (the test file's own
 * database) and resolves once `/healthz` answers; fails with the process output if it exits or
 * does not come up within 45 s.
 */
export async function startServerProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: serverRoot,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TANDEM_DEMO: '0',
      TANDEM_SECRET: 'server-process-test-secret-0123456789abcdef',
      TANDEM_DATA_DIR: `/tmp/tandem-test-server-${process.pid}`,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${output.join('')}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return { child, port, output };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start: ${output.join('')}`);
}

/** SIGTERM (graceful: flushes and stops), SIGKILL after 10 s; resolves when the process is gone. */
export function stopServerProcess(server: ServerProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    server.child.once('exit', () => resolve());
    server.child.kill('SIGTERM');
    setTimeout(() => server.child.kill('SIGKILL'), 10_000).unref();
  });
}
