import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { withTransaction } from '../../db/tx.js';
import type { Services } from '../../http/context.js';
import { hashPassword, hashToken } from '../../security/crypto.js';
import { recordAudit } from '../audit/record.js';
import { enqueueMail, mailLinkBase } from '../mail/mail.js';
import { revokeApiKeys } from './accounts.js';
import { insertMailedToken, mailLimitReached } from './mailed-tokens.js';

/*
 * Password reset by mail. Reading the mail sent to an address is what proves the address, so a
 * reset also settles who owns it: whoever signed up first with someone else's email (and could
 * never verify it) loses the account, its sessions ended, to the one who reads that mail. The API
 * keys of the account's workspaces go too when the one confirming asks for it (see
 * revokeKeysOfWorkspacesControlledBy); when the address was unverified until then, they are counted
 * for review instead of revoked unasked.
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
 * The workspaces user `$1` controls alone: owned, or administered with no other owner or admin. Every
 * key in them was made on the account's watch, by it or by someone it let in. A workspace with
 * another owner or admin is that person's, and its keys (even one this account made there) are left
 * to them, so a reset never touches another tenant's integrations.
 */
const WORKSPACES_CONTROLLED_BY = `
  select m.workspace_id from memberships m
   where m.user_id = $1
     and (m.role = 'owner'
          or (m.role = 'admin' and not exists (
                select 1 from memberships other
                 where other.workspace_id = m.workspace_id and other.user_id <> m.user_id and other.role in ('owner', 'admin'))))`;

/**
 * Revokes every unrevoked key of the workspaces a user controls alone, auditing each, and returns
 * their ids: asked for by the one confirming a reset who did not make this account, or fears that
 * someone else used it. "Made before the reset" means committed before the revoking statement,
 * which sees them all. Left open: a request authenticated before the reset whose new key commits
 * after that statement (a race of moments).
 */
async function revokeKeysOfWorkspacesControlledBy(client: pg.PoolClient, userId: string): Promise<string[]> {
  const revoked: string[] = [];
  const { rows: workspaces } = await client.query<{ workspace_id: string }>(`${WORKSPACES_CONTROLLED_BY} order by m.workspace_id`, [userId]);
  for (const { workspace_id: workspaceId } of workspaces) {
    for (const keyId of await revokeApiKeys(client, workspaceId, { allUnrevoked: true })) {
      await recordAudit(client, {
        workspaceId,
        actor: { kind: 'user', id: userId },
        action: 'api_key.revoked',
        target: { type: 'api_key', id: keyId },
        before: { revoked: false },
        after: { revoked: true, reason: 'password_reset' },
      });
      revoked.push(keyId);
    }
  }
  return revoked;
}

/** The unrevoked keys of the workspaces a user controls alone. */
async function countKeysOfWorkspacesControlledBy(client: pg.PoolClient, userId: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from api_keys where revoked_at is null and workspace_id in (${WORKSPACES_CONTROLLED_BY})`,
    [userId],
  );
  return rows[0]!.n;
}

/**
 * Sets the password of the account a reset token was mailed for. The token proves the address, so
 * the email counts as verified; every session of the account ends (a squatter's included) and every
 * other outstanding reset link is spent. With `revokeApiKeys`, the keys of the workspaces the
 * account controls alone are revoked as well (ids returned: the caller drops them from this node's
 * cache once committed). Without it they keep working — a forgotten password must not break a
 * brand's tracking integration, and brand sign-up does not ask to verify the address, so an
 * unverified address says little — but when the address was unverified until this reset, the
 * account may have been someone else's: their number is returned as `apiKeysToReview`, for the one
 * who now holds it to look at. `afterReset` runs in the same transaction, as the user.
 */
export async function confirmPasswordReset(
  services: Services,
  input: { token: string; password: string; revokeApiKeys?: boolean },
  afterReset: (client: pg.PoolClient, userId: string) => Promise<void>,
): Promise<{ email: string; revokedApiKeyIds: string[]; apiKeysToReview: number }> {
  const passwordHash = await hashPassword(input.password);
  return withTransaction(services.pool, async (client) => {
    const { rows } = await client.query<{ user_id: string; email: string; expires_at: Date; used_at: Date | null; current_email: string; email_verified_at: Date | null }>(
      `select r.user_id, r.email, r.expires_at, r.used_at, u.email as current_email, u.email_verified_at
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
    const revokedApiKeyIds = input.revokeApiKeys ? await revokeKeysOfWorkspacesControlledBy(client, found.user_id) : [];
    // Keys just revoked need no review; nor do those of an address that was already proven.
    const apiKeysToReview = input.revokeApiKeys || found.email_verified_at ? 0 : await countKeysOfWorkspacesControlledBy(client, found.user_id);
    await afterReset(client, found.user_id);
    return { email: found.email, revokedApiKeyIds, apiKeysToReview };
  });
}
