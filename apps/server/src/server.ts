import pino from 'pino';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { loadConfig, type Config, type Flags } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { loadOrCreateSecret } from './security/secret.js';
import { makeServices } from './services.js';
import { buildApp } from './app.js';
import type { Services } from './http/context.js';
import { registerJobs } from './jobs/register.js';
import { startWebhookWakeups } from './modules/webhooks/jobs.js';

export interface Runtime {
  config: Config;
  database: Database;
  services: Services;
  log: FastifyBaseLogger;
}

export function makeLogger(config: Config): FastifyBaseLogger {
  return pino({ level: config.logLevel, base: { service: 'tandem' }, redact: ['req.headers.authorization', 'req.headers.cookie'] }) as unknown as FastifyBaseLogger;
}

/** Configuration, secret, database (embedded or external, migrated) and services. */
export async function startRuntime(flags: Flags = {}, env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  const config = loadConfig(env, flags);
  const log = makeLogger(config);
  const secret = await loadOrCreateSecret(config.secret, config.dataDir);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.poolSize,
    idleInTransactionTimeoutMs: config.idleInTransactionTimeoutSeconds * 1000,
    log: (level, message) => log[level](message),
  });
  const services = makeServices({ config, database, secret, log });
  return { config, database, services, log };
}

/** `tandem serve`: the HTTP server and the background workers, stopped gracefully on SIGTERM/SIGINT. */
export async function serve(flags: Flags = {}): Promise<{ app: FastifyInstance; stop: () => Promise<void> }> {
  const started = Date.now();
  const runtime = await startRuntime(flags);
  const { config, services, database, log } = runtime;
  let app: FastifyInstance;
  let stopWebhookWakeups = async (): Promise<void> => undefined;
  try {
    app = await buildApp(services, { loggerInstance: log, serveWeb: true });
    registerJobs(services);
    if (config.workers) services.queue.start();
    stopWebhookWakeups = await startWebhookWakeups(services);
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // Never leave the embedded PostgreSQL running behind a failed start.
    await stopWebhookWakeups();
    await services.queue.stop(1000);
    await database.close();
    throw error;
  }
  log.info(`Tandem is up on http://localhost:${config.port} (database: ${database.kind}) in ${Date.now() - started} ms`);
  // The demo is seeded in the background once the server answers (/healthz never waits for it),
  // through the API of an in-process app of its own that logs nothing per request.
  const demoSeeding = config.demo === '1' || config.demo === 'auto' ? seedDemoInBackground(runtime, config.demo === '1') : Promise.resolve();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('Shutting down: draining requests, flushing buffers, stopping workers');
      await demoSeeding; // its requests go through the app; let it finish rather than fail half-way
      await app.close(); // stops accepting, waits for in-flight requests, runs onClose hooks (click flush)
      await stopWebhookWakeups();
      await services.queue.stop();
      await services.statistics.settled(); // an analyse in flight, rather than an error when the pool closes
      await database.close();
      log.info('Stopped');
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stop()
        .then(() => process.exit(0))
        .catch((error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        });
    });
  }
  return { app, stop };
}

async function seedDemoInBackground(runtime: Runtime, force: boolean): Promise<void> {
  try {
    const { seedDemoOnStart } = await import('./demo/demo.js');
    const seedingApp = await buildApp(runtime.services, { serveWeb: false });
    try {
      await seedDemoOnStart(runtime.services, seedingApp, force);
    } finally {
      await seedingApp.close();
    }
  } catch (error) {
    runtime.log.error({ err: error }, 'demo seeding failed');
  }
}
