import type pg from 'pg';
import nodemailer from 'nodemailer';
import type { Services } from '../../http/context.js';
import { decryptValue, encryptValue } from '../../security/encryption.js';

/**
 * Outgoing mail. A message is enqueued on the durable job queue (inside the caller's transaction
 * when it passes one), so a mail is sent only for work that committed and is retried when the
 * SMTP server is briefly away. Without `TANDEM_SMTP_URL` the message is written to the log at
 * info level instead, so a self-hoster without a mail server can still follow its links.
 */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface MailTransport {
  send(message: MailMessage): Promise<void>;
}

/**
 * Where links in mail point: the configured public URL, else this server's own listen address.
 * Never the request's Host header: whoever sends the request chooses it, and the mail goes to
 * someone else (a sign-up with `Host: evil.example` would mail the address's owner a link there).
 */
export function mailLinkBase(services: Pick<Services, 'config'>): string {
  return services.config.publicUrl ?? `http://localhost:${services.config.port}`;
}

export const MAIL_QUEUE = 'mail.send';

// Messages carry one-time links (verification tokens are otherwise stored only as hashes), so the
// job row holds them encrypted with the instance secret, never in clear.
interface MailJob {
  sealed: string;
}

export async function enqueueMail(services: Services, message: MailMessage, client?: pg.PoolClient): Promise<void> {
  const payload: MailJob = { sealed: encryptValue(services.secret, 'outgoing-mail', JSON.stringify(message)) };
  await services.queue.enqueue(MAIL_QUEUE, payload, { client, maxAttempts: 6 });
}

const overrides = new WeakMap<Services, MailTransport>();
const configured = new WeakMap<Services, MailTransport>();

/** Replaces how this node delivers mail (tests capture it; see `captureMail`). */
export function useMailTransport(services: Services, transport: MailTransport): void {
  overrides.set(services, transport);
}

/** Collects every mail this node sends instead of sending it: for tests. */
export function captureMail(services: Services): MailMessage[] {
  const sent: MailMessage[] = [];
  useMailTransport(services, {
    send: async (message) => {
      sent.push(message);
    },
  });
  return sent;
}

export function smtpTransport(url: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
  return {
    send: async (message) => {
      await transporter.sendMail({ from, to: message.to, subject: message.subject, text: message.text });
    },
  };
}

export function logTransport(log: Services['log']): MailTransport {
  return {
    send: async (message) => {
      log.info({ mail: message }, `Mail to ${message.to} written to the log (no TANDEM_SMTP_URL configured): ${message.subject}`);
    },
  };
}

function transportFor(services: Services): MailTransport {
  const override = overrides.get(services);
  if (override) return override;
  let transport = configured.get(services);
  if (!transport) {
    const { smtpUrl, mailFrom } = services.config;
    transport = smtpUrl ? smtpTransport(smtpUrl, mailFrom) : logTransport(services.log);
    configured.set(services, transport);
  }
  return transport;
}

export function registerMailJobs(services: Services): void {
  services.queue.register<MailJob>(MAIL_QUEUE, async (job) => {
    const message = JSON.parse(decryptValue(services.secret, 'outgoing-mail', job.payload.sealed)) as MailMessage;
    await transportFor(services).send(message);
  });
}
