/**
 * kill -9 durability check. Starts `tandem serve`, drives redirects (`GET /r/:key`, each a new
 * visitor) and `POST /api/v1/track/sale` calls concurrently, `kill -9`s the server in the middle
 * of the load, restarts it on the same database and checks:
 *
 *   1. every sale that was acknowledged (2xx) is still there: re-sending it returns the same sale
 *      id (sales are idempotent per invoiceId, so a lost sale would come back with a new id);
 *   2. the clicks lost are at most those of the last unflushed batch (the click buffer writes every
 *      100 ms or 1,000 rows): served click ids minus clicks in the rollups.
 *
 * Exits non-zero when either check fails. Not part of `npm test`.
 *
 *   node --import tsx bench/killtest/run.ts                     # embedded PostgreSQL (temp data dir)
 *   KILLTEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/killtest/run.ts
 *   KILL_AFTER_MS=4000 node --import tsx bench/killtest/run.ts  # load before the kill (default 3000)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../../apps/server/src/db/embedded.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repoRoot, 'apps/server/src/cli.ts');
const KILL_AFTER_MS = Number(process.env.KILL_AFTER_MS ?? 3000);
const REDIRECT_WORKERS = Number(process.env.REDIRECT_WORKERS ?? 24);
const SALE_WORKERS = Number(process.env.SALE_WORKERS ?? 8);
/** The click buffer's batch (rows): what a kill -9 may lose at most. */
const MAX_BATCH = 1000;
const SECRET = 'killtest-secret-0123456789abcdef0123456789';

async function freshExternalDatabase(adminUrl: string): Promise<string> {
  const name = `tandem_killtest_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

interface Server {
  child: ChildProcess;
  base: string;
}

async function startServer(env: Record<string, string>, dataDir: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env, TANDEM_DEMO: '0', TANDEM_SECRET: SECRET, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tandem serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('tandem serve did not start within 60 s');
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill('SIGTERM');
  });
}

async function api<T>(base: string, key: string | null, method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as T };
}

async function main(): Promise<void> {
  const externalAdmin = process.env.KILLTEST_DATABASE_URL;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-killtest-'));
  const env: Record<string, string> = externalAdmin ? { DATABASE_URL: await freshExternalDatabase(externalAdmin) } : {};
  console.log(`database: ${externalAdmin ? 'external PostgreSQL' : `embedded PostgreSQL in ${dataDir}`}`);

  let server = await startServer(env, dataDir);
  const signup = await api<{ apiKey: string }>(server.base, null, 'POST', '/api/v1/auth/signup', {
    email: `killtest-${Date.now()}@example.com`,
    password: 'killtest password',
    name: 'Kill Test',
    workspaceName: 'Kill Test',
  });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${JSON.stringify(signup.body)}`);
  const key = signup.body.apiKey;
  const program = await api<{ id: string }>(server.base, key, 'POST', '/api/v1/programs', {
    name: 'Kill test',
    currency: 'USD',
    destinationUrl: 'https://brand.example/landing',
  });
  if (program.status !== 201) throw new Error(`program: ${program.status} ${JSON.stringify(program.body)}`);
  const partner = await api<{ partner: { id: string }; link: { key: string } }>(
    server.base,
    key,
    'POST',
    `/api/v1/programs/${program.body.id}/partners`,
    { email: 'partner@example.com', name: 'Partner', status: 'approved' },
  );
  if (partner.status !== 201) throw new Error(`partner: ${partner.status} ${JSON.stringify(partner.body)}`);
  const linkKey = partner.body.link.key;

  // ---- load, then kill -9 in the middle of it
  const servedClicks: { id: string; at: number }[] = [];
  const acknowledged: { invoiceId: string; saleId: string; body: object }[] = [];
  let attemptedSales = 0;
  let failedRequests = 0;
  let failedBeforeKill = 0;
  let killedAt = 0;
  const saleRefusals = new Map<number, number>();
  let loading = true;
  const base = server.base;
  let visitor = 0;

  const redirectWorker = async () => {
    while (loading) {
      visitor += 1;
      try {
        const res = await fetch(`${base}/r/${linkKey}`, {
          redirect: 'manual',
          headers: {
            'user-agent': `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.${visitor}.0 Safari/537.36`,
          },
        });
        const click = new URL(res.headers.get('location') ?? 'http://x/').searchParams.get('tdm_click');
        if (res.status === 302 && click) servedClicks.push({ id: click, at: Date.now() });
        else {
          failedRequests += 1;
          if (!killedAt) failedBeforeKill += 1;
        }
      } catch {
        failedRequests += 1;
        if (!killedAt) failedBeforeKill += 1;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const saleWorker = async (w: number) => {
    for (let i = 0; loading; i++) {
      // A visitor converts some time after the click: use a click served at least 250 ms ago.
      const recent = servedClicks.findLast((c) => c.at < Date.now() - 250)?.id;
      const body = {
        customer: { externalId: `cust-${w}-${i}` },
        amount: 1000 + i,
        currency: 'USD',
        invoiceId: `inv-${w}-${i}`,
        ...(recent ? { clickId: recent } : {}),
      };
      attemptedSales += 1;
      try {
        const res = await api<{ sale: { id: string } }>(base, key, 'POST', '/api/v1/track/sale', body);
        if (res.status === 200) acknowledged.push({ invoiceId: body.invoiceId, saleId: res.body.sale.id, body });
        else {
          failedRequests += 1;
          if (!killedAt) failedBeforeKill += 1;
          saleRefusals.set(res.status, (saleRefusals.get(res.status) ?? 0) + 1);
        }
      } catch {
        failedRequests += 1;
        if (!killedAt) failedBeforeKill += 1;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const workers = [
    ...Array.from({ length: REDIRECT_WORKERS }, redirectWorker),
    ...Array.from({ length: SALE_WORKERS }, (_, w) => saleWorker(w)),
  ];
  await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
  killedAt = Date.now();
  server.child.kill('SIGKILL');
  await new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  // Keep hammering the dead port briefly: nothing more may be acknowledged.
  await new Promise((r) => setTimeout(r, 300));
  loading = false;
  await Promise.all(workers);
  console.log(
    `kill -9 after ${KILL_AFTER_MS} ms of load: ${servedClicks.length} redirects served, ${acknowledged.length} of ${attemptedSales} sales acknowledged, ${failedRequests} requests failed (${failedBeforeKill} before the kill, the rest against the dead server)`,
  );
  if (saleRefusals.size) console.log(`sales refused before the kill, by status: ${JSON.stringify(Object.fromEntries(saleRefusals))}`);

  // ---- restart on the same database and verify
  const restartStart = Date.now();
  server = await startServer(env, dataDir);
  console.log(`restarted in ${Date.now() - restartStart} ms`);
  let lostSales = 0;
  for (let i = 0; i < acknowledged.length; i += 32) {
    const chunk = acknowledged.slice(i, i + 32);
    const answers = await Promise.all(
      chunk.map((s) => api<{ sale: { id: string } }>(server.base, key, 'POST', '/api/v1/track/sale', s.body)),
    );
    answers.forEach((a, j) => {
      if (a.status !== 200 || a.body.sale.id !== chunk[j]!.saleId) lostSales += 1;
    });
  }
  const day = new Date(killedAt).toISOString().slice(0, 10);
  const summary = await api<{ totals: { clicks: number } }>(
    server.base,
    key,
    'GET',
    `/api/v1/analytics/summary?programId=${program.body.id}&from=${day}&to=${day}`,
  );
  const servedDistinct = new Set(servedClicks.map((c) => c.id)).size;
  const clicksInDb = summary.body.totals.clicks;
  const lostClicks = servedDistinct - clicksInDb;
  const servedInLastBatchWindow = servedClicks.filter((c) => c.at > killedAt - 100).length;
  await stop(server);
  if (!externalAdmin) await fs.rm(dataDir, { recursive: true, force: true });
  else {
    // Leave the shared server as we found it.
    const admin = new pg.Client({ connectionString: externalAdmin });
    await admin.connect();
    await admin.query(`drop database if exists ${new URL(env.DATABASE_URL!).pathname.slice(1)} with (force)`);
    await admin.end();
  }

  console.log(`acknowledged sales: ${acknowledged.length}, present after restart: ${acknowledged.length - lostSales}, lost: ${lostSales}`);
  console.log(
    `clicks served: ${servedDistinct}, in the database: ${clicksInDb}, lost: ${lostClicks} (served in the last 100 ms before the kill: ${servedInLastBatchWindow}; a batch is at most ${MAX_BATCH} rows)`,
  );
  const ok = lostSales === 0 && lostClicks >= 0 && lostClicks <= MAX_BATCH;
  console.log(ok ? 'PASS: no acknowledged sale lost; clicks lost within one unflushed batch' : 'FAIL');
  process.exitCode = ok ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
