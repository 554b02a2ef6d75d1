#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from './config.js';

const HELP = `tandem — cross-promotion partnerships and referral programs

Usage: tandem <command> [options]

Commands:
  serve      Start the HTTP server and background workers (default)
               --port <n>        port to listen on (env PORT, default 3000)
               --host <addr>     address to bind (env HOST, default 0.0.0.0)
               --data-dir <dir>  embedded PostgreSQL data directory (env TANDEM_DATA_DIR, default ./.tandem)
  migrate    Apply database migrations and exit
  demo       Create the demo workspace if missing; print its login and a fresh API key
  rewards replay --program <id>
             Recompute a program's commissions from its reward events; report any difference
  help       Show this help

The database is the embedded PostgreSQL under the data directory unless DATABASE_URL is set.
See README.md for every environment variable.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      program: { type: 'string' },
    },
  });
  const command = positionals[0] ?? 'serve';
  if (values.help || command === 'help') {
    console.log(HELP);
    return 0;
  }
  const flags = { port: values.port, host: values.host, 'data-dir': values['data-dir'] };
  switch (command) {
    case 'serve': {
      const { serve } = await import('./server.js');
      await serve(flags);
      return -1; // keep running
    }
    case 'migrate': {
      const { startRuntime } = await import('./server.js');
      const runtime = await startRuntime(flags);
      console.log(`Migrations applied (${runtime.database.kind} PostgreSQL)`);
      await runtime.database.close();
      return 0;
    }
    case 'demo': {
      const { startRuntime } = await import('./server.js');
      const { buildApp } = await import('./app.js');
      const { demoLoginLines, seedDemo } = await import('./demo/demo.js');
      const runtime = await startRuntime(flags);
      try {
        // The demo is seeded through the API in-process: the app is built, never listens.
        const app = await buildApp(runtime.services, { serveWeb: false });
        try {
          const demo = await seedDemo(runtime.services, app);
          console.log(`Demo workspace ${demo.created ? 'created' : 'already present'}.`);
          for (const line of demoLoginLines(demo, runtime.config.publicUrl ?? `http://localhost:${runtime.config.port}`)) console.log(line);
        } finally {
          await app.close();
        }
      } finally {
        await runtime.database.close();
      }
      return 0;
    }
    case 'rewards': {
      if (positionals[1] !== 'replay' || !values.program) {
        console.error(`Usage: tandem rewards replay --program <id>`);
        return 2;
      }
      const { startRuntime } = await import('./server.js');
      const { replayStoredProgram } = await import('./modules/rewards/replay.js');
      const runtime = await startRuntime(flags);
      try {
        const report = await replayStoredProgram(runtime.services.pool, values.program);
        console.log(`Replayed ${report.events} events into ${report.commissions} commissions of ${report.programId}: ${report.differences.length} differences`);
        for (const d of report.differences) console.log(`  ${d}`);
        return report.differences.length === 0 ? 0 : 1;
      } finally {
        await runtime.database.close();
      }
    }
    default:
      console.error(`Unknown command '${command}'.\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError || (error instanceof TypeError && 'code' in error && String((error as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
