import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { withTransaction } from '../../db/tx.js';
import type { Services } from '../../http/context.js';
import { hashToken } from '../../security/crypto.js';
import { enqueueMail } from '../mail/mail.js';
import { insertMailedToken, mailLimitReached, MAX_LINKS_PER_DAY } from './mailed-tokens.js';

/*
 * Proving an email address: brands' partner rows are found by email, so nothing may act as the
 * partner behind an address until the user has shown it reads the mail sent there. A token is
 * random, kept only as its hash, mailed once, good for a day and for one use.
 */
export const VERIFICATION_TTL_MS = 24 * 3600 * 1000;

export interface EmailStatus {
  email: string;
  emailVerified: boolean;
  emailVerifiedAt: string | null;
}

export function verificationUrl(baseUrl: string, token: string): string {
  return `${baseUrl}/portal/verify-email?token=${encodeURIComponent(token)}`;
}

/** A fresh token for the user's current address; the caller hands it to the user (only its hash is kept). */
export async function createVerificationToken(db: pg.Pool | pg.PoolClient, user: { id: string; email: string }, now: Date): Promise<string> {
  return insertMailedToken(db, 'email_verifications', 'emv', user, now, VERIFICATION_TTL_MS);
}

/** Creates a token for the user's current address and enqueues the mail that carries it (in the caller's transaction). */
export async function sendEmailVerification(services: Services, client: pg.PoolClient, user: { id: string; email: string }, baseUrl: string): Promise<void> {
  const link = verificationUrl(baseUrl, await createVerificationToken(client, user, services.now()));
  await enqueueMail(
    services,
    {
      to: user.email,
      subject: 'Confirm your email address for the Tandem partner portal',
      // No greeting by name: the name is whatever the sign-up typed (newlines and a made-up
      // message included), and this mail goes to the address's owner, who may not be that person.
      text: [
        'Open this link to confirm that this address is yours. Your programs, links and earnings appear in the partner portal once you have:',
        '',
        link,
        '',
        'The link works once, for 24 hours, while you are signed in. If you did not sign up, ignore this mail: nothing is shared until the address is confirmed.',
      ].join('\n'),
    },
    client,
  );
}

export async function emailStatusOf(db: pg.Pool | pg.PoolClient, userId: string): Promise<EmailStatus> {
  const { rows } = await db.query<{ email: string; email_verified_at: Date | null }>('select email, email_verified_at from users where id = $1', [userId]);
  const row = rows[0];
  if (!row) throw new ApiError('not_found', 'User not found');
  return { email: row.email, emailVerified: row.email_verified_at !== null, emailVerifiedAt: row.email_verified_at?.toISOString() ?? null };
}

const invalidToken = () => new ApiError('unprocessable', 'This verification link is not valid for your account', [{ path: 'token', message: 'is not a verification link of the signed-in account' }]);

/**
 * Redeems a token for the signed-in user: another user's token is refused like an unknown one, so
 * a link that reaches the wrong person verifies nothing. `afterVerified` runs in the same transaction.
 */
export async function verifyEmail(services: Services, userId: string, token: string, afterVerified: (client: pg.PoolClient) => Promise<void>): Promise<EmailStatus> {
  return withTransaction(services.pool, async (client) => {
    const { rows } = await client.query<{ id: string; user_id: string; email: string; expires_at: Date; used_at: Date | null; current_email: string }>(
      `select v.id, v.user_id, v.email, v.expires_at, v.used_at, u.email as current_email
         from email_verifications v join users u on u.id = v.user_id
        where v.token_hash = $1 for update of v`,
      [hashToken(token)],
    );
    const found = rows[0];
    if (!found || found.user_id !== userId || found.email !== found.current_email) throw invalidToken();
    if (found.used_at) throw new ApiError('unprocessable', 'This verification link was already used', [{ path: 'token', message: 'has already been used' }]);
    const now = services.now();
    if (found.expires_at <= now) throw new ApiError('unprocessable', 'This verification link has expired; ask for a new one', [{ path: 'token', message: 'has expired' }]);
    // Every outstanding link of the user is spent with this one: a verified address needs none.
    await client.query('update email_verifications set used_at = $2 where user_id = $1 and used_at is null', [userId, now]);
    await client.query('update users set email_verified_at = coalesce(email_verified_at, $2) where id = $1', [userId, now]);
    await afterVerified(client);
    return emailStatusOf(client, userId);
  });
}

/** Mails a fresh link, at most once a minute and a few times a day (the mail goes to a third party's inbox). */
export async function resendEmailVerification(services: Services, userId: string, baseUrl: string): Promise<EmailStatus> {
  return withTransaction(services.pool, async (client) => {
    const { rows } = await client.query<{ id: string; email: string; email_verified_at: Date | null }>(
      'select id, email, email_verified_at from users where id = $1 for update',
      [userId],
    );
    const user = rows[0];
    if (!user) throw new ApiError('not_found', 'User not found');
    if (user.email_verified_at) throw new ApiError('conflict', 'This email address is already verified');
    const limit = await mailLimitReached(client, 'email_verifications', userId, services.now());
    if (limit?.reason === 'wait') throw new ApiError('rate_limited', `A link was sent moments ago; ask again in ${limit.seconds}s`);
    if (limit?.reason === 'daily') throw new ApiError('rate_limited', `At most ${MAX_LINKS_PER_DAY} links a day; try again tomorrow`);
    await sendEmailVerification(services, client, user, baseUrl);
    return emailStatusOf(client, userId);
  });
}
