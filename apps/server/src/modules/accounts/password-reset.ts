import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { withTransaction } from '../../db/tx.js';
import type { Services } from '../../http/context.js';
import { hashPassword, hashToken } from '../../security/crypto.js';
import { enqueueMail, mailLinkBase } from '../mail/mail.js';
import { insertMailedToken, mailLimitReached } from './mailed-tokens.js';

/*
 * Password reset by mail. Reading the mail sent to an address is what proves the address, so a
 * reset also settles who owns it: whoever signed up first with someone else's email (and could
 * never verify it) loses the account, its sessions ended, to the one who reads that mail.
 */
export const RESET_TTL_MS = 3600 * 1000;

export function passwordResetUrl(baseUrl: string, token: string): string {
  return `${baseUrl}/reset-password?token=${encodeURIComponent(token)}`;
}

/**
 * Mails a reset link when an account uses the address. The caller answers the same either way, so
 * nothing here may tell them apart: no error for an unknown address, and a request over the mail
 * limit (one a minute, five a day, as for verification links) is accepted and sends nothing.
 */
export async function requestPasswordReset(services: Services, email: string): Promise<void> {
  await withTransaction(services.pool, async (client) => {
    // The user row is locked so that concurrent requests count each other against the limit.
    const { rows } = await client.query<{ id: string; email: string }>('select id, email from users where email = $1 for update', [email]);
    const user = rows[0];
    if (!user) return;
    const now = services.now();
    if (await mailLimitReached(client, 'password_resets', user.id, now)) {
      services.log.info({ userId: user.id }, 'password reset not mailed: mail limit reached');
      return;
    }
    const token = await insertMailedToken(client, 'password_resets', 'pwr', user, now, RESET_TTL_MS);
    await enqueueMail(
      services,
      {
        to: user.email,
        subject: 'Reset your Tandem password',
        text: [
          'Someone asked to reset the password of the Tandem account that uses this address. Open this link to choose a new password:',
          '',
          passwordResetUrl(mailLinkBase(services), token),
          '',
          'The link works once, for one hour. Setting a password signs out every session of the account. If you did not ask for this, ignore this mail: the password stays as it is.',
        ].join('\n'),
      },
      client,
    );
  });
}

const unknownToken = () => new ApiError('unprocessable', 'This password reset link is not valid', [{ path: 'token', message: 'is not a password reset link' }]);

/**
 * Sets the password of the account a reset token was mailed for. The token proves the address, so
 * the email counts as verified; every session of the account ends (a squatter's included) and every
 * other outstanding reset link is spent. `afterReset` runs in the same transaction, as the user.
 */
export async function confirmPasswordReset(
  services: Services,
  input: { token: string; password: string },
  afterReset: (client: pg.PoolClient, userId: string) => Promise<void>,
): Promise<{ email: string }> {
  const passwordHash = await hashPassword(input.password);
  return withTransaction(services.pool, async (client) => {
    const { rows } = await client.query<{ user_id: string; email: string; expires_at: Date; used_at: Date | null; current_email: string }>(
      `select r.user_id, r.email, r.expires_at, r.used_at, u.email as current_email
         from password_resets r join users u on u.id = r.user_id
        where r.token_hash = $1 for update of r, u`,
      [hashToken(input.token)],
    );
    const found = rows[0];
    // A link mailed to an address the account no longer uses proves nothing about the account.
    if (!found || found.email !== found.current_email) throw unknownToken();
    if (found.used_at) throw new ApiError('unprocessable', 'This password reset link was already used', [{ path: 'token', message: 'has already been used' }]);
    const now = services.now();
    if (found.expires_at <= now) throw new ApiError('unprocessable', 'This password reset link has expired; ask for a new one', [{ path: 'token', message: 'has expired' }]);
    await client.query('update password_resets set used_at = $2 where user_id = $1 and used_at is null', [found.user_id, now]);
    await client.query('update users set password_hash = $2, email_verified_at = coalesce(email_verified_at, $3) where id = $1', [found.user_id, passwordHash, now]);
    await client.query('delete from sessions where user_id = $1', [found.user_id]);
    await afterReset(client, found.user_id);
    return { email: found.email };
  });
}
