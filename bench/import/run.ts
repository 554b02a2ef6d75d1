/**
 * Memory of a large conversions import. Starts `tandem serve` (embedded PostgreSQL in a temp data
 * dir, or BENCH_DATABASE_URL), creates a program and a partner, then streams a generated CSV of
 * ROWS sales (every 10th carrying the partner's coupon code) to `POST /api/v1/conversions/import`
 * — generated on the fly, so the client holds no file either. The upload answers 202 once the rows
 * are validated and stored; the bench then polls `GET /api/v1/conversions/imports/:id` until the
 * background job has recorded them all. Samples the server process's RSS (/proc/<pid>/status)
 * every 250 ms throughout and reports the peak of each phase, the times and the rows recorded.
 *
 *   node --import tsx bench/import/run.ts              # ROWS=1000000 by default
 *   ROWS=100000 node --import tsx bench/import/run.ts
 *   DRY_RUN=1 node --import tsx bench/import/run.ts    # validate + spool 1M rows, record none
 *   MEMORY_PROBE=1 ROWS=50000 node --import tsx bench/import/run.ts   # + the server's heap vs RSS
 *   MEMORY_PROBE=1 PROBE_GC=1 ROWS=50000 …            # heap after a forced full GC (live objects)
 *
 * Progress lines (rows recorded, rows/s, RSS) go to stderr every PROGRESS_SECONDS (default 30).
 * Exits 1 when the peak RSS reaches LIMIT_MB (default 500) or rows are missing. Not part of `npm test`.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../apps/server/src/db/embedded.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repoRoot, 'apps/server/src/cli.ts');
const ROWS = Number(process.env.ROWS ?? 1_000_000);
const LIMIT_MB = Number(process.env.LIMIT_MB ?? 500);
/** DRY_RUN=1: parse, validate and spool every row, record none (the streaming half, at full size). */
const DRY_RUN = process.env.DRY_RUN === '1';
const PROGRESS_SECONDS = Number(process.env.PROGRESS_SECONDS ?? 30);
/** MEMORY_PROBE=1: the server prints its heap/external/RSS split (bench/import/memory-probe.ts). */
const MEMORY_PROBE = process.env.MEMORY_PROBE === '1';

async function rssMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** The CSV, generated chunk by chunk as the request body drains. */
async function* csvChunks(rows: number, couponCode: string): AsyncGenerator<string> {
  const start = Date.now() - 300 * 24 * 3600 * 1000;
  yield 'type,externalId,amount,currency,invoiceId,occurredAt,couponCode\n';
  for (let i = 0; i < rows; ) {
    let chunk = '';
    for (let n = 0; n < 2000 && i < rows; n++, i++) {
      const at = new Date(start + i * 20_000).toISOString();
      chunk += `sale,bench-cust-${i % 200_000},${1000 + (i % 5000)},USD,bench-inv-${i},${at},${i % 10 === 0 ? couponCode : ''}\n`;
    }
    yield chunk;
  }
}

/**
 * POSTs the CSV with node:http rather than fetch: the server answers once every row is validated
 * and stored, which for a million rows can outlast fetch's five-minute wait for response headers.
 */
function upload(url: string, apiKey: string, chunks: AsyncIterable<string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    void (async () => {
      for await (const chunk of chunks) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      req.end();
    })().catch(reject);
  });
}

async function main(): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-import-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = { TANDEM_DEMO: '0', TANDEM_SECRET: 'import-bench-secret-0123456789abcdef012345', LOG_LEVEL: 'warn' };
  if (process.env.BENCH_DATABASE_URL) env.DATABASE_URL = process.env.BENCH_DATABASE_URL;
  const probe = MEMORY_PROBE ? ['--import', path.join(repoRoot, 'bench/import/memory-probe.ts'), '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${os.tmpdir()}`] : [];
  if (MEMORY_PROBE && process.env.PROBE_GC === '1') probe.push('--expose-gc');
  const child = spawn(process.execPath, ['--import', 'tsx', ...probe, cli, 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error('server did not start');
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const signup = (await (await fetch(`${base}/api/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.com', password: 'long enough password', name: 'Bench', workspaceName: 'Bench' }) })).json()) as { apiKey: string };
    const auth = { authorization: `Bearer ${signup.apiKey}`, 'content-type': 'application/json' };
    const program = (await (await fetch(`${base}/api/v1/programs`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Bench', currency: 'USD', destinationUrl: 'https://brand.example/' }) })).json()) as { id: string };
    const partner = (await (await fetch(`${base}/api/v1/programs/${program.id}/partners`, { method: 'POST', headers: auth, body: JSON.stringify({ email: 'p@bench.example', name: 'P' }) })).json()) as { enrollment: { couponCode: string } };

    const pid = child.pid!;
    const baseline = await rssMb(pid);
    let peak = baseline;
    let current = baseline;
    const sampler = setInterval(() => {
      rssMb(pid).then((mb) => {
        current = mb;
        peak = Math.max(peak, mb);
      }, () => undefined);
    }, 250);
    const started = Date.now();
    const res = await upload(`${base}/api/v1/conversions/import?dryRun=${DRY_RUN}`, signup.apiKey, csvChunks(ROWS, partner.enrollment.couponCode));
    const uploadSeconds = (Date.now() - started) / 1000;
    const uploadPeakMb = Math.max(peak, await rssMb(pid));
    const summary: Record<string, unknown> = { rows: ROWS, dryRun: DRY_RUN, status: res.status, uploadSeconds, rssBaselineMb: Math.round(baseline), rssUploadPeakMb: Math.round(uploadPeakMb) };
    let ok: boolean;
    if (DRY_RUN) {
      const report = JSON.parse(res.body) as { committed: boolean; succeeded: number; failed: number };
      Object.assign(summary, { committed: report.committed, succeeded: report.succeeded, failed: report.failed, rowsPerSecond: Math.round(ROWS / uploadSeconds) });
      ok = res.status === 200 && !report.committed && report.succeeded === ROWS;
    } else {
      if (res.status !== 202) throw new Error(`expected 202, got ${res.status}: ${res.body.slice(0, 500)}`);
      const { id } = JSON.parse(res.body) as { id: string };
      const recordingStarted = Date.now();
      let lastReport = recordingStarted;
      let state: { status: string; recorded: number; failed: number; error: string | null };
      for (;;) {
        await new Promise((r) => setTimeout(r, 2000));
        state = (await (await fetch(`${base}/api/v1/conversions/imports/${id}`, { headers: { authorization: auth.authorization } })).json()) as typeof state;
        if (Date.now() - lastReport >= PROGRESS_SECONDS * 1000) {
          lastReport = Date.now();
          const elapsed = (Date.now() - recordingStarted) / 1000;
          console.error(`[progress] ${JSON.stringify({ elapsedSeconds: Math.round(elapsed), recorded: state.recorded, rowsPerSecond: Math.round(state.recorded / elapsed), rssMb: Math.round(current), rssPeakMb: Math.round(peak) })}`);
        }
        if (state.status === 'completed' || state.status === 'failed') break;
      }
      const recordSeconds = (Date.now() - recordingStarted) / 1000;
      Object.assign(summary, {
        importStatus: state.status, recorded: state.recorded, failed: state.failed, error: state.error,
        recordSeconds, recordRowsPerSecond: Math.round(state.recorded / recordSeconds), totalSeconds: (Date.now() - started) / 1000,
      });
      ok = state.status === 'completed' && state.recorded === ROWS && state.failed === 0;
    }
    clearInterval(sampler);
    peak = Math.max(peak, await rssMb(pid));
    summary.rssPeakMb = Math.round(peak);
    console.log(JSON.stringify(summary));
    if (!ok || peak >= LIMIT_MB) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
