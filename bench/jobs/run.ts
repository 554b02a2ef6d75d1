/**
 * Job queue throughput on the embedded and the external PostgreSQL: enqueue N no-op jobs one by
 * one (each its own INSERT, as modules do), then work them with two queue instances ("nodes") of
 * concurrency 8. Prints jobs/s for both phases. Not part of `npm test`.
 *
 *   node --import tsx bench/jobs/run.ts            # both backends (external = 127.0.0.1:5432/test)
 *   JOBS=20000 node --import tsx bench/jobs/run.ts
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../apps/server/src/db/embedded.js';
import { openPool, runMigrations } from '../../apps/server/src/db/database.js';
import { JobQueue } from '../../apps/server/src/jobs/queue.js';

const N = Number(process.env.JOBS ?? 5000);
const EXTERNAL = process.env.EXTERNAL_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function freshDatabase(adminUrl: string): Promise<string> {
  const name = `bench_jobs_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function measure(label: string, adminUrl: string): Promise<void> {
  const url = await freshDatabase(adminUrl);
  const pool = openPool(url, 20);
  await runMigrations(pool);
  const producer = new JobQueue(pool);
  let t = performance.now();
  await Promise.all(Array.from({ length: 16 }, async (_, w) => {
    for (let i = w; i < N; i += 16) await producer.enqueue('bench.noop', { i });
  }));
  const enqueueRate = N / ((performance.now() - t) / 1000);
  const nodes = [new JobQueue(pool, { concurrency: 8 }), new JobQueue(pool, { concurrency: 8 })];
  let done = 0;
  for (const q of nodes) q.register('bench.noop', async () => void done++);
  t = performance.now();
  await Promise.all(nodes.map(async (q) => { while ((await q.runOnce()) > 0); }));
  const workRate = done / ((performance.now() - t) / 1000);
  await pool.end();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database ${new URL(url).pathname.slice(1)} with (force)`);
  await admin.end();
  console.log(`${label.padEnd(9)} enqueue ${Math.round(enqueueRate).toLocaleString('en')} jobs/s (16 concurrent producers)   work ${Math.round(workRate).toLocaleString('en')} jobs/s (2 nodes × 8)   completed ${done}/${N}`);
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-jobs-'));
await fs.chmod(dir, 0o755);
const embedded = await startEmbeddedPostgres({ dataDir: dir });
try {
  await measure('embedded', embedded.url);
  await measure('external', EXTERNAL);
} finally {
  await embedded.stop();
  await fs.rm(dir, { recursive: true, force: true });
}
