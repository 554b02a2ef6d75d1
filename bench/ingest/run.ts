/**
 * End-to-end sale ingest: `POST /api/v1/track/sale` with attribution (coupon code), the commission
 * (rule engine with tiers and a cap, so each sale reads the partner's state), its hash-chained
 * journal entry and the outbox events — 32 concurrent clients against one `tandem serve`.
 * Prints sales/s and latency percentiles per round, then the medians; finally checks the books
 * (one commission per sale, ledger verifies). Not part of `npm test`.
 *
 * Baseline, alternating with it in every round on the same server (see ../shared/BENCHMARKS.md):
 * the same sales without a coupon code — stored and idempotent, but unattributed, so no commission,
 * journal entry or fraud assessment. The ratio shows what the incentive path costs on this machine
 * at this moment, which absolute numbers on a shared 2-core box cannot.
 *
 *   node --import tsx bench/ingest/run.ts                 # embedded PostgreSQL (temp data dir)
 *   INGEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/ingest/run.ts
 *   CLIENTS=32 SALES=6000 ROUNDS=3 PARTNERS=50 …           # the defaults
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../../apps/server/src/db/embedded.js';
import { cpuSeconds, cpuSecondsOf, processesOf } from '../lib/processes.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repoRoot, 'apps/server/src/cli.ts');
const CLIENTS = Number(process.env.CLIENTS ?? 32);
const SALES = Number(process.env.SALES ?? 6000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PARTNERS = Number(process.env.PARTNERS ?? 50);
const SECRET = 'ingest-bench-secret-0123456789abcdef0123456789';

async function freshExternalDatabase(adminUrl: string): Promise<string> {
  const name = `tandem_ingest_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function startServer(env: Record<string, string>, dataDir: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  // TANDEM_NODE_FLAGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) are passed to the server's node.
  const nodeFlags = (process.env.TANDEM_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', cli, 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], {
    cwd: repoRoot,
    env: { ...process.env, ...env, TANDEM_DEMO: '0', TANDEM_SECRET: SECRET, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tandem serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('tandem serve did not start within 60 s');
}

async function api<T>(base: string, key: string | null, method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as T };
}

/*
 * The load generator shares the two cores with the server under test, so it must be cheap: plain
 * node:http over kept-alive sockets (one per client) costs a fraction of what fetch() does per
 * request, leaving the CPU to the server — as wrk does for the redirect benchmark.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

function postJson(url: string, key: string, payload: unknown): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmtCpu = (c: { node: number; postgres: number; client: number }) =>
  `${(c.node + c.postgres).toFixed(2)} ms = node ${c.node.toFixed(2)} + PostgreSQL ${c.postgres.toFixed(2)} (load generator ${c.client.toFixed(2)})`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const externalAdmin = process.env.INGEST_DATABASE_URL;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-ingest-'));
  const env: Record<string, string> = externalAdmin ? { DATABASE_URL: await freshExternalDatabase(externalAdmin) } : {};
  const label = externalAdmin ? 'external PostgreSQL' : 'embedded PostgreSQL';
  console.log(`database: ${label}; ${CLIENTS} clients, ${SALES} sales per round, ${ROUNDS} rounds, ${PARTNERS} partners`);
  // Figures from different sessions are comparable only on the same kind of processor.
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}, node ${process.version}`);
  const server = await startServer(env, dataDir);
  try {
    const signup = await api<{ apiKey: string }>(server.base, null, 'POST', '/api/v1/auth/signup', { email: `ingest-${Date.now()}@example.com`, password: 'ingest bench password', name: 'Ingest', workspaceName: 'Ingest' });
    if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${JSON.stringify(signup.body)}`);
    const key = signup.body.apiKey;
    const program = await api<{ id: string }>(server.base, key, 'POST', '/api/v1/programs', {
      name: 'Ingest bench',
      currency: 'USD',
      destinationUrl: 'https://brand.example/landing',
      rules: {
        sale: { type: 'percentage', amount: 10 },
        tiers: { period: 'month', levels: [{ min: 5, type: 'percentage', amount: 15 }] },
        cap: { period: 'month', amount: 10_000_000 },
        qualification: { holdDays: 30 },
      },
    });
    if (program.status !== 201) throw new Error(`program: ${program.status} ${JSON.stringify(program.body)}`);
    const coupons: string[] = [];
    for (let i = 0; i < PARTNERS; i++) {
      const partner = await api<{ enrollment: { couponCode: string } }>(server.base, key, 'POST', `/api/v1/programs/${program.body.id}/partners`, { email: `p${i}@partners.example`, name: `Partner ${i}`, status: 'approved' });
      if (partner.status !== 201) throw new Error(`partner: ${partner.status} ${JSON.stringify(partner.body)}`);
      coupons.push(partner.body.enrollment.couponCode);
    }

    const rates: number[] = [];
    const p50s: number[] = [];
    const p99s: number[] = [];
    const baseRates: number[] = [];
    let invoice = 0;
    let attributedSales = 0;
    // CPU per sale, split between the server's node, PostgreSQL (its children when embedded, every
    // process of the postgres user when external) and this load generator.
    const serverPid = server.child.pid!;
    const cpuNow = () => {
      const tree = cpuSeconds(serverPid);
      const postgres = externalAdmin ? processesOf('postgres').reduce((sum, pid) => sum + cpuSecondsOf(pid), 0) : tree.children;
      const client = process.cpuUsage();
      return { node: tree.root, postgres, client: (client.user + client.system) / 1e6 };
    };
    const cpuPerSale: { node: number[]; postgres: number[]; client: number[] } = { node: [], postgres: [], client: [] };
    const runRound = async (total: number, attributed: boolean) => {
      let next = 0;
      const latencies: number[] = [];
      let failures = 0;
      const cpuBefore = cpuNow();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < total) {
            next += 1;
            const n = ++invoice;
            const t0 = performance.now();
            const res = await postJson(`${server.base}/api/v1/track/sale`, key, {
              customer: { externalId: attributed ? `cust-${n % 5000}` : `anon-${n}` }, amount: 1_000 + (n % 97) * 10, currency: 'USD', invoiceId: `inv-${n}`,
              ...(attributed ? { couponCode: coupons[n % coupons.length] } : {}),
            });
            const body = JSON.parse(res.body) as { commission?: { id: string } };
            latencies.push(performance.now() - t0);
            if (res.status !== 200 || (attributed && !body.commission)) failures += 1;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const cpuAfter = cpuNow();
      const cpu = { node: (1000 * (cpuAfter.node - cpuBefore.node)) / total, postgres: (1000 * (cpuAfter.postgres - cpuBefore.postgres)) / total, client: (1000 * (cpuAfter.client - cpuBefore.client)) / total };
      latencies.sort((a, b) => a - b);
      if (failures > 0) throw new Error(`${failures} sales failed or earned no commission`);
      if (attributed) attributedSales += total;
      return { rate: total / seconds, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpu };
    };
    for (let round = 0; round <= ROUNDS; round++) {
      const warmup = round === 0;
      const total = warmup ? Math.min(SALES, 1000) : SALES;
      const full = await runRound(total, true);
      const base = await runRound(total, false);
      const load = os.loadavg()[0]!.toFixed(1);
      console.log(
        `${warmup ? 'warm-up' : `round ${round}`}: attributed ${full.rate.toFixed(0)} sales/s (p50 ${full.p50.toFixed(1)} ms, p99 ${full.p99.toFixed(1)} ms); ` +
          `baseline unattributed ${base.rate.toFixed(0)} sales/s (p99 ${base.p99.toFixed(1)} ms); ratio ${(full.rate / base.rate).toFixed(2)}; load ${load}; ` +
          `CPU per attributed sale ${fmtCpu(full.cpu)}, per unattributed ${fmtCpu(base.cpu)}`,
      );
      if (!warmup) {
        rates.push(full.rate);
        p50s.push(full.p50);
        p99s.push(full.p99);
        baseRates.push(base.rate);
        cpuPerSale.node.push(full.cpu.node);
        cpuPerSale.postgres.push(full.cpu.postgres);
        cpuPerSale.client.push(full.cpu.client);
      }
    }
    const verify = await api<{ ok: boolean; entries: number }>(server.base, key, 'GET', '/api/v1/ledger/verify');
    const commissions = await api<{ data: unknown[] }>(server.base, key, 'GET', `/api/v1/commissions?programId=${program.body.id}&limit=1`);
    console.log(`ledger: ok=${verify.body.ok}, ${verify.body.entries} entries for ${attributedSales} attributed sales (${commissions.status === 200 ? 'commissions listed' : 'list failed'})`);
    if (!verify.body.ok || verify.body.entries !== attributedSales) throw new Error('the books do not match the sales');
    console.log(
      `RESULT ${label}: median ${median(rates).toFixed(0)} sales/s, p50 ${median(p50s).toFixed(1)} ms, p99 ${median(p99s).toFixed(1)} ms (rounds: ${rates.map((r) => r.toFixed(0)).join(', ')}); ` +
        `baseline median ${median(baseRates).toFixed(0)} sales/s; ratio ${(median(rates) / median(baseRates)).toFixed(2)}; ` +
        `CPU per attributed sale (median) ${fmtCpu({ node: median(cpuPerSale.node), postgres: median(cpuPerSale.postgres), client: median(cpuPerSale.client) })}`,
    );
  } finally {
    agent.destroy();
    await new Promise<void>((resolve) => {
      if (server.child.exitCode !== null) return resolve();
      server.child.once('exit', () => resolve());
      server.child.kill('SIGTERM');
    });
    await fs.rm(dataDir, { recursive: true, force: true });
    // KEEP_DATABASE=1 leaves it for a look at plans and statistics afterwards.
    if (externalAdmin && env.DATABASE_URL && !process.env.KEEP_DATABASE) {
      // Leave the shared server as we found it.
      const admin = new pg.Client({ connectionString: externalAdmin });
      await admin.connect();
      await admin.query(`drop database if exists ${new URL(env.DATABASE_URL).pathname.slice(1)} with (force)`);
      await admin.end();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
