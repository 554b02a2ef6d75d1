/**
 * Scripted check: `kill -9` of Tandem during redirect load loses at most the clicks that were still
 * in memory (the unflushed batch, plus the one being committed), never anything committed before.
 * Usage: node --import tsx bench/redirect/kill9.ts   (also run by `bash bench/redirect/run.sh kill9`)
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, openSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const BATCH = 1000; // ClickBuffer's default maxBatch

const port = await new Promise<number>((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as net.AddressInfo).port;
    srv.close(() => resolve(p));
  });
});
const work = mkdtempSync(path.join(os.tmpdir(), 'tandem-kill9-'));
chmodSync(work, 0o755);
const dataDir = path.join(work, 'data');
const seed = spawnSync('node', ['--import', 'tsx', path.join(here, 'seed.ts'), dataDir], { cwd: root, encoding: 'utf8' });
if (seed.status !== 0) throw new Error(`seeding failed: ${seed.stderr}`);

const log = openSync(path.join(work, 'tandem.log'), 'w');
const tandem = spawn(
  'node',
  [
    '--import',
    'tsx',
    path.join(root, 'apps/server/src/cli.ts'),
    'serve',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
  ],
  {
    cwd: root,
    env: { ...process.env, DATABASE_URL: '', TANDEM_DEMO: '0', TANDEM_TRUST_PROXY: '1', TANDEM_WORKERS: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', log, log],
  },
);
for (let up = false; !up;) {
  up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (!up) await new Promise((r) => setTimeout(r, 200));
}

const wrk = spawn('wrk', ['-t1', '-c32', '-d6s', '-s', path.join(here, 'visitors.lua'), `http://127.0.0.1:${port}/r/bench`, '--', '0'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let wrkOut = '';
wrk.stdout.on('data', (d: Buffer) => (wrkOut += d.toString()));
await new Promise((r) => setTimeout(r, 3000));
tandem.kill('SIGKILL');
const killedAt = Date.now();
await new Promise((r) => wrk.once('exit', r));

// The orphaned embedded PostgreSQL is stopped cleanly by the next open, committed rows kept.
const counted = spawnSync('node', ['--import', 'tsx', path.join(here, 'count-clicks.ts'), dataDir], { cwd: root, encoding: 'utf8' });
const inDb = JSON.parse(counted.stdout.trim().split('\n').pop() ?? '{}') as { clicks: number; rolled_up: number };
const served = Number(/(\d+) requests in/.exec(wrkOut)?.[1] ?? 0);
const lost = served - inDb.clicks;
console.log(`kill -9 at ${new Date(killedAt).toISOString()} after 3 s of load`);
console.log(`302s with a click id received by wrk before the kill: ${served}`);
console.log(`clicks in the database afterwards: ${inDb.clicks} (rollup total ${inDb.rolled_up})`);
console.log(`lost: ${lost} — bound: the unflushed batch plus the one being committed (≤ ${2 * BATCH} rows at the default batch size)`);
console.log(lost <= 2 * BATCH && inDb.rolled_up === inDb.clicks ? 'OK' : 'FAILED');
process.exit(lost <= 2 * BATCH && inDb.rolled_up === inDb.clicks ? 0 : 1);
