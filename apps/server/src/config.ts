import { z } from 'zod';
import path from 'node:path';

/**
 * Configuration comes from the environment and is parsed once, at start-up; command-line flags of
 * the same name (`--port`, `--data-dir`) override it. Bad configuration stops the process with a
 * message naming the variable, never a surprise at request time.
 */
const booleanFlag = z
  .enum(['0', '1', 'true', 'false', ''])
  .optional()
  .transform((v) => v === '1' || v === 'true');

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  TANDEM_DATA_DIR: z.string().default('.tandem'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  TANDEM_PUBLIC_URL: z
    .url()
    .optional()
    .or(z.literal('').transform(() => undefined))
    .describe(
      "base URL of short links and of links in mail. Unset, API answers use the request's host, but mailed links (email verification, password reset) use this server's own address, http://localhost:<PORT>: a request's Host header is chosen by its sender, and the mail goes to someone else",
    ),
  TANDEM_SECRET: z.string().min(32, 'must be at least 32 characters').optional().or(z.literal('').transform(() => undefined)),
  TANDEM_TRUST_PROXY: booleanFlag,
  TANDEM_COUNTRY_HEADER: z.string().optional(),
  TANDEM_WEBHOOKS_ALLOW_PRIVATE: booleanFlag,
  TANDEM_CLICK_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(396).describe('raw clicks older than this are purged (default ~13 months); rollups stay. A program’s clicks are kept at least as long as its attribution window, so a conversion occurring now finds any click its window reaches; one reported with an earlier occurredAt (tracking API, imports) looks back from then and may not find a click older than this'),
  TANDEM_DEMO: z.enum(['0', '1', 'auto']).default('auto'),
  TANDEM_WORKERS: z.enum(['0', '1']).default('1').describe('run background jobs in this node'),
  TANDEM_REDIRECT_CONNECTIONS: z.enum(['0', '1']).default('1').describe("answer /r/ on the redirect's own HTTP/1.1 connection handler"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(60)
    .describe(
      "PostgreSQL ends a connection of this node left idle inside a transaction this long (its locks, and the live stream's progress, are freed); 0 keeps the server's own idle_in_transaction_session_timeout",
    ),
  TANDEM_STREAMS_PER_CALLER: z.coerce.number().int().min(1).max(1000).default(5).describe('open event streams one API key or user may hold on a node'),
  TANDEM_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined))
    .describe('where mail is sent; without it, mail is written to the log (info level) instead'),
  TANDEM_MAIL_FROM: z.string().min(3).default('Tandem <tandem@localhost>'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  publicUrl: string | undefined;
  secret: string | undefined;
  trustProxy: boolean;
  countryHeader: string | undefined;
  webhooksAllowPrivate: boolean;
  clickRetentionDays: number;
  demo: '0' | '1' | 'auto';
  /** Whether this node works the job queue (web-only nodes of a larger deployment turn it off). */
  workers: boolean;
  /** Whether `/r/` requests are parsed and answered by the redirect's own connection handler (redirect-connection.ts) rather than node:http. */
  redirectConnections: boolean;
  poolSize: number;
  /** Bound on a pool connection's time idle inside a transaction (`idle_in_transaction_session_timeout`); 0: the server's own setting. */
  idleInTransactionTimeoutSeconds: number;
  /** Open event streams (`/stream`, `/portal/stream`) one API key or user may hold on this node; one more is a 429. */
  streamsPerCaller: number;
  /** SMTP server for outgoing mail (smtp:// or smtps://, credentials in the URL); none: mail goes to the log. */
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

export interface Flags {
  port?: string;
  'data-dir'?: string;
  host?: string;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: Flags = {}): Config {
  const merged = {
    ...env,
    ...(flags.port !== undefined ? { PORT: flags.port } : {}),
    ...(flags['data-dir'] !== undefined ? { TANDEM_DATA_DIR: flags['data-dir'] } : {}),
    ...(flags.host !== undefined ? { HOST: flags.host } : {}),
  };
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.TANDEM_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    publicUrl: e.TANDEM_PUBLIC_URL?.replace(/\/+$/, ''),
    secret: e.TANDEM_SECRET,
    trustProxy: e.TANDEM_TRUST_PROXY,
    countryHeader: e.TANDEM_COUNTRY_HEADER?.toLowerCase(),
    webhooksAllowPrivate: e.TANDEM_WEBHOOKS_ALLOW_PRIVATE,
    clickRetentionDays: e.TANDEM_CLICK_RETENTION_DAYS,
    demo: e.TANDEM_DEMO,
    workers: e.TANDEM_WORKERS === '1',
    redirectConnections: e.TANDEM_REDIRECT_CONNECTIONS === '1',
    poolSize: e.DATABASE_POOL_SIZE,
    idleInTransactionTimeoutSeconds: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS,
    streamsPerCaller: e.TANDEM_STREAMS_PER_CALLER,
    smtpUrl: e.TANDEM_SMTP_URL,
    mailFrom: e.TANDEM_MAIL_FROM,
    logLevel: e.LOG_LEVEL,
  };
}
