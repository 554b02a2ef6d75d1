import type pg from 'pg';
import { newId, type IdPrefix } from '@tandem/core';
import { hashToken, randomToken } from '../../security/crypto.js';

/*
 * One-time tokens that are mailed to a user's address (email verification, password reset): random,
 * kept only as their hash, bound to the user and the address they were sent to, and mailed at most
 * once a minute and five times a day. Each purpose has its own table, so a token of one can never
 * be redeemed as the other; both tables have the same columns.
 */
export type MailedTokenTable = 'email_verifications' | 'password_resets';

/** A new link at most once a minute, and at most this many a day. */
export const RESEND_INTERVAL_MS = 60 * 1000;
export const MAX_LINKS_PER_DAY = 5;
const DAY_MS = 24 * 3600 * 1000;

/** Stores a fresh token for the user's current address; returns it for the mail (only its hash is kept). */
export async function insertMailedToken(
  db: pg.Pool | pg.PoolClient,
  table: MailedTokenTable,
  idPrefix: IdPrefix,
  user: { id: string; email: string },
  now: Date,
  ttlMs: number,
): Promise<string> {
  const token = randomToken(32);
  await db.query(`insert into ${table} (id, user_id, email, token_hash, created_at, expires_at) values ($1, $2, $3, $4, $5, $6)`, [
    newId(idPrefix),
    user.id,
    user.email,
    hashToken(token),
    now,
    new Date(now.getTime() + ttlMs),
  ]);
  return token;
}

/**
 * Why no new link may be mailed to the user now, or null when one may: `wait` with the seconds
 * left before the next, or `daily` when the day's links are spent. The caller holds the user's row
 * lock, so concurrent requests count each other.
 */
export async function mailLimitReached(
  db: pg.PoolClient,
  table: MailedTokenTable,
  userId: string,
  now: Date,
): Promise<{ reason: 'wait'; seconds: number } | { reason: 'daily' } | null> {
  const { rows } = await db.query<{ sent: number; newest: Date | null }>(
    `select count(*)::int as sent, max(created_at) as newest from ${table} where user_id = $1 and created_at > $2`,
    [userId, new Date(now.getTime() - DAY_MS)],
  );
  const { sent, newest } = rows[0]!;
  if (newest && now.getTime() - newest.getTime() < RESEND_INTERVAL_MS) {
    return { reason: 'wait', seconds: Math.ceil((RESEND_INTERVAL_MS - (now.getTime() - newest.getTime())) / 1000) };
  }
  return sent >= MAX_LINKS_PER_DAY ? { reason: 'daily' } : null;
}
