/**
 * Redirect benchmark driver (see run.sh and ../../docs/benchmarks.md): nginx's `return 302` and
 * Tandem's `GET /r/:key` with click recording on the embedded PostgreSQL, both pinned to core 0,
 * wrk pinned to core 1, alternating for several rounds. Prints medians, p99s, the ratio, memory,
 * and after a graceful shutdown the clicks in the database against the clicks served.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { cpuSeconds, treeRssMiB } from '../lib/processes.js';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const rounds = Number(process.env.ROUNDS ?? 3);
const duration = process.env.DURATION ?? '10s';
const connections = Number(process.env.CONNECTIONS ?? 64);
const serverCore = process.env.SERVER_CORE ?? '0';
const wrkCore = process.env.WRK_CORE ?? '1';
/**
 * After the saturated rounds, Tandem again with each connection pausing this many ms between
 * requests (paced.lua): the p99 at a steady load below saturation, where a closed loop's queue does
 * not dominate it. Empty to skip.
 */
const pausesMs = (process.env.PAUSES_MS ?? '2,1').split(',').filter(Boolean).map(Number);

interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non3xx: number;
  errors: string | null;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

function runWrk(url: string, offset: number, seconds = duration, pauseMs?: number): WrkResult {
  const args = [
    '-c',
    wrkCore,
    'wrk',
    '-t1',
    `-c${connections}`,
    `-d${seconds}`,
    '--latency',
    '-s',
    path.join(here, pauseMs === undefined ? 'visitors.lua' : 'paced.lua'),
    url,
    '--',
    String(offset),
    ...(pauseMs === undefined ? [] : [String(pauseMs)]),
  ];
  const out = spawnSync('taskset', args, { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`wrk failed: ${out.stderr}`);
  const text = out.stdout;
  const latency = (pct: string) => toMs(new RegExp(`^\\s+${pct}%\\s+(\\S+)`, 'm').exec(text)?.[1] ?? '');
  return {
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? 0),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0),
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    non3xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    errors: /Socket errors: (.*)/.exec(text)?.[1] ?? null,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { redirect: 'manual' });
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-redirect-'));
  // The embedded PostgreSQL runs as the `postgres` user when we are root: it must reach its data dir.
  chmodSync(work, 0o755);
  const dataDir = path.join(work, 'data');
  const nginxPort = await freePort();
  let tandemPort = await freePort();
  while (tandemPort === nginxPort) tandemPort = await freePort();
  let fastifyPort = await freePort();
  // Nothing listens on these yet, so the kernel may hand the same port out twice.
  while (fastifyPort === tandemPort || fastifyPort === nginxPort) fastifyPort = await freePort();
  const tsx = ['--import', 'tsx'];

  console.log(`# work dir ${work}`);
  // Figures from different sessions are comparable only on the same kind of processor.
  console.log(`# machine: ${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}, node ${process.version}`);
  const seed = spawnSync('node', [...tsx, path.join(here, 'seed.ts'), dataDir], { cwd: root, encoding: 'utf8' });
  if (seed.status !== 0) throw new Error(`seeding failed: ${seed.stderr}`);

  writeFileSync(
    path.join(work, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${work}/nginx-body;
  proxy_temp_path ${work}/nginx-proxy;
  fastcgi_temp_path ${work}/nginx-fastcgi;
  uwsgi_temp_path ${work}/nginx-uwsgi;
  scgi_temp_path ${work}/nginx-scgi;
  server { listen 127.0.0.1:${nginxPort}; location / { return 302 https://example.com/; } }
}
`,
  );
  const nginx = spawn('taskset', ['-c', serverCore, 'nginx', '-c', path.join(work, 'nginx.conf'), '-p', work], { stdio: 'inherit' });

  const logPath = path.join(work, 'tandem.log');
  const log = openSync(logPath, 'w');
  const tandem = spawn(
    'taskset',
    [
      '-c',
      serverCore,
      'node',
      // Extra V8/node flags for experiments, e.g. TANDEM_NODE_FLAGS='--max-semi-space-size=64'.
      ...(process.env.TANDEM_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      ...tsx,
      path.join(root, 'apps/server/src/cli.ts'),
      'serve',
      '--port',
      String(tandemPort),
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
    ],
    {
      cwd: root,
      // Requests carry X-Forwarded-For (one visitor each), as behind a load balancer.
      env: {
        ...process.env,
        DATABASE_URL: '',
        TANDEM_DEMO: '0',
        TANDEM_TRUST_PROXY: '1',
        TANDEM_WORKERS: '0',
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
      },
      stdio: ['ignore', log, log],
    },
  );
  const fastify = spawn('taskset', ['-c', serverCore, 'node', ...tsx, path.join(here, 'fastify-baseline.ts'), String(fastifyPort)], {
    cwd: root,
    stdio: 'inherit',
  });
  // `taskset` execs node, so this pid is the server itself.
  const tandemPid = tandem.pid!;

  const results = { nginx: [] as WrkResult[], 'bare Fastify': [] as WrkResult[], tandem: [] as WrkResult[] };
  const paced: { pauseMs: number; result: WrkResult; cpuUs: number }[] = [];
  let offset = 0;
  let tandemRequests = 0;
  let memory = { node: 0, postgres: 0 };
  const cpu = { nginx: [] as number[], fastify: [] as number[], node: [] as number[], postgres: [] as number[] };
  try {
    await waitFor(`http://127.0.0.1:${nginxPort}/`);
    await waitFor(`http://127.0.0.1:${tandemPort}/healthz`);
    await waitFor(`http://127.0.0.1:${fastifyPort}/r/bench`);
    const fastifyUrl = `http://127.0.0.1:${fastifyPort}/r/bench`;
    const nginxUrl = `http://127.0.0.1:${nginxPort}/r/bench`;
    const tandemUrl = `http://127.0.0.1:${tandemPort}/r/bench`;
    const probe = await fetch(tandemUrl, {
      redirect: 'manual',
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0 Safari/537.36' },
    });
    if (probe.status !== 302 || !probe.headers.get('location')?.includes('tdm_click='))
      throw new Error(`Tandem did not redirect with a click id (status ${probe.status})`);
    tandemRequests += 1;

    // Warm-up (JIT, caches, connection pool), not reported.
    runWrk(nginxUrl, 0, '3s');
    runWrk(fastifyUrl, 0, '3s');
    offset += 2_000_000;
    tandemRequests += runWrk(tandemUrl, offset, '3s').requests;

    for (let round = 1; round <= rounds; round++) {
      const nginxBefore = cpuSeconds(nginx.pid!);
      const n = runWrk(nginxUrl, 0);
      const nginxAfter = cpuSeconds(nginx.pid!);
      const fastifyBefore = cpuSeconds(fastify.pid!);
      const f = runWrk(fastifyUrl, 0);
      const fastifyAfter = cpuSeconds(fastify.pid!);
      cpu.fastify.push((1e6 * (fastifyAfter.root - fastifyBefore.root)) / f.requests);
      results['bare Fastify'].push(f);
      offset += 2_000_000;
      const tandemBefore = cpuSeconds(tandemPid);
      const t = runWrk(tandemUrl, offset);
      const tandemAfter = cpuSeconds(tandemPid);
      cpu.nginx.push((1e6 * (nginxAfter.root + nginxAfter.children - nginxBefore.root - nginxBefore.children)) / n.requests);
      cpu.node.push((1e6 * (tandemAfter.root - tandemBefore.root)) / t.requests);
      cpu.postgres.push((1e6 * (tandemAfter.children - tandemBefore.children)) / t.requests);
      tandemRequests += t.requests;
      if (round === rounds) { const rss = treeRssMiB(tandemPid); memory = { node: rss.root, postgres: rss.descendants }; }
      results.nginx.push(n);
      results.tandem.push(t);
      console.log(
        `round ${round}: nginx ${n.rps.toFixed(0)} req/s p99 ${n.p99Ms} ms | bare Fastify ${f.rps.toFixed(0)} req/s p99 ${f.p99Ms} ms | tandem ${t.rps.toFixed(0)} req/s p99 ${t.p99Ms} ms (ratio ${((100 * t.rps) / n.rps).toFixed(1)} %)${t.non3xx || t.errors ? ` [tandem non-3xx ${t.non3xx}, socket errors ${t.errors ?? 0}]` : ''}`,
      );
    }
    for (const pauseMs of pausesMs) {
      offset += 2_000_000;
      const before = cpuSeconds(tandemPid);
      const t = runWrk(tandemUrl, offset, duration, pauseMs);
      const after = cpuSeconds(tandemPid);
      tandemRequests += t.requests;
      paced.push({ pauseMs, result: t, cpuUs: (1e6 * (after.root + after.children - before.root - before.children)) / t.requests });
      console.log(`paced (${pauseMs} ms between requests per connection): tandem ${t.rps.toFixed(0)} req/s p50 ${t.p50Ms} ms p99 ${t.p99Ms} ms`);
    }
  } finally {
    nginx.kill('SIGTERM');
    fastify.kill('SIGTERM');
    tandem.kill('SIGTERM');
    await Promise.all([exited(nginx), exited(fastify), exited(tandem)]);
  }

  const flushed = readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((l) => l.includes('click buffer flushed'))
    .map(
      (l) =>
        (
          JSON.parse(l) as {
            clicks: {
              accepted: number;
              written: number;
              buffered: number;
              newClicks: number;
              reusedClicks: number;
              uncounted: number;
              waits: number;
            };
          }
        ).clicks,
    )[0];
  const counted = spawnSync('node', [...tsx, path.join(here, 'count-clicks.ts'), dataDir], { cwd: root, encoding: 'utf8' });
  const inDb = JSON.parse(counted.stdout.trim().split('\n').pop() ?? '{}') as { clicks?: number; rolled_up?: number };

  const nginxRps = median(results.nginx.map((r) => r.rps));
  const tandemRps = median(results.tandem.map((r) => r.rps));
  const tandemP99 = median(results.tandem.map((r) => r.p99Ms));
  const ratio = (100 * tandemRps) / nginxRps;
  console.log('');
  console.log(`| | requests/s (median of ${rounds}) | p50 (median) | p99 (median) | p99 (worst round) |`);
  console.log('|---|---|---|---|---|');
  for (const [name, rs] of Object.entries(results)) {
    console.log(
      `| ${name} | ${median(rs.map((r) => r.rps)).toFixed(0)} | ${median(rs.map((r) => r.p50Ms)).toFixed(2)} ms | ${median(rs.map((r) => r.p99Ms)).toFixed(2)} ms | ${Math.max(...rs.map((r) => r.p99Ms)).toFixed(2)} ms |`,
    );
  }
  console.log('');
  console.log(
    `ratio bare Fastify/nginx: ${((100 * median(results['bare Fastify'].map((r) => r.rps))) / nginxRps).toFixed(1)} % (the framework's ceiling on this machine now)`,
  );
  console.log(
    `ratio tandem/nginx: ${ratio.toFixed(1)} % (bar ≥ 35 %), tandem p99 ${tandemP99.toFixed(2)} ms (bar ≤ 5 ms) → ${ratio >= 35 && tandemP99 <= 5 ? 'MET' : 'MISSED'}`,
  );
  const cpuNginx = median(cpu.nginx);
  const cpuTandem = median(cpu.node) + median(cpu.postgres);
  console.log(
    `CPU per request (median): nginx ${cpuNginx.toFixed(1)} µs; bare Fastify ${median(cpu.fastify).toFixed(1)} µs; Tandem ${cpuTandem.toFixed(1)} µs = node ${median(cpu.node).toFixed(1)} µs + PostgreSQL ${median(cpu.postgres).toFixed(1)} µs` +
      ` → CPU-bound ratio on one core ≈ ${((100 * cpuNginx) / cpuTandem).toFixed(1)} % (less sensitive to neighbours than requests/s)`,
  );
  for (const { pauseMs, result, cpuUs } of paced) {
    const load = (100 * result.rps * cpuUs) / 1e6;
    console.log(
      `below saturation: ${connections} connections each pausing ${pauseMs} ms → Tandem ${result.rps.toFixed(0)} req/s (${((100 * result.rps) / nginxRps).toFixed(1)} % of nginx's saturated rate; its core ≈ ${load.toFixed(0)} % busy), p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`,
    );
  }
  console.log(
    `memory at the last round: node ${memory.node} MiB, embedded PostgreSQL processes ${memory.postgres} MiB (RSS, shared buffers counted per process)`,
  );
  console.log(
    `302s received by wrk from Tandem: ${tandemRequests}; new clicks served (server count): ${flushed?.newClicks ?? '?'} (reused ${flushed?.reusedClicks ?? '?'}, uncounted ${flushed?.uncounted ?? '?'}; redirects that waited for buffer room ${flushed?.waits ?? '?'})`,
  );
  console.log(
    `clicks in the database after SIGTERM: ${inDb.clicks ?? '?'} (rollup total ${inDb.rolled_up ?? '?'}) → ${inDb.clicks === flushed?.newClicks && inDb.rolled_up === inDb.clicks ? 'none lost' : 'MISMATCH'}`,
  );
  console.log(
    `(wrk stops counting at its deadline while up to ${connections} requests are in flight, so the server's count may exceed wrk's by that much per run)`,
  );
  console.log(
    `command: bash bench/redirect/run.sh   (ROUNDS=${rounds} DURATION=${duration} CONNECTIONS=${connections}; wrk -t1 -c${connections} -d${duration} --latency on core ${wrkCore}, servers on core ${serverCore})`,
  );
}

await main();
