/**
 * Preloaded into the benchmarked server (`MEMORY_PROBE=1`): prints the process's memory split
 * every PROBE_INTERVAL_MS (default 10 s) to stderr, so RSS growth can be told apart from heap
 * growth (JS objects kept alive) and from memory outside the heap (buffers, native allocations).
 * With PROBE_GC=1 (run.ts then adds --expose-gc) a full collection runs first, so `heapUsed` is the
 * live heap: if it stays flat while rows are recorded, nothing is retained per row.
 * `kill -USR2 <pid>` writes a heap snapshot to the temp directory (see run.ts).
 */
const interval = Number(process.env.PROBE_INTERVAL_MS ?? 10_000);
const collect = process.env.PROBE_GC === '1' ? (globalThis as { gc?: () => void }).gc : undefined;
const mb = (n: number) => Math.round(n / 1024 / 1024);
setInterval(() => {
  collect?.();
  const m = process.memoryUsage();
  process.stderr.write(`[memory] ${JSON.stringify({ t: Math.round(process.uptime()), gc: Boolean(collect), rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) })}\n`);
}, interval).unref();
