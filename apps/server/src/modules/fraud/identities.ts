import type pg from 'pg';
import { keyedHash } from '../../security/crypto.js';
import { VisitorHasher } from '../clicks/visitor.js';

/**
 * Remembers an identity a partner is known by — the IP hash of its own requests (as the click
 * hasher makes it, so it compares with clicks of the same day) or its payout details — so the
 * self-referral and shared-payout rules can compare. Payout details are stored only as a keyed hash.
 * Called by the modules that see them: partner sign-in and requests (portal), payout settings.
 */
export async function recordPartnerIdentity(
  db: pg.Pool | pg.PoolClient,
  secret: string,
  entry: { workspaceId: string; partnerId: string; kind: 'ip_hash' | 'payout'; value: string; at: Date },
): Promise<void> {
  const valueHash = entry.kind === 'payout' ? keyedHash(`${secret}:payout-details:${entry.workspaceId}`, entry.value.trim().toLowerCase()) : entry.value;
  await db.query(
    `insert into partner_identities (workspace_id, partner_id, kind, value_hash, seen_at) values ($1, $2, $3, $4, $5)
     on conflict (workspace_id, partner_id, kind, value_hash) do update set seen_at = excluded.seen_at`,
    [entry.workspaceId, entry.partnerId, entry.kind, valueHash, entry.at],
  );
}

/**
 * Remembers the IP a partner acts from, hashed exactly as the redirect hashes its visitors' IPs
 * (same key, same day), so a customer clicking from the partner's own address is recognised. The
 * hashes rotate daily, so this links the partner to clicks of the same day only — by design.
 */
export async function recordPartnerRequestIp(db: pg.Pool | pg.PoolClient, secret: string, entry: { workspaceId: string; partnerId: string; ip: string; at: Date }): Promise<void> {
  const ipHash = new VisitorHasher(secret).ipHash(entry.ip, entry.at.getTime());
  await recordPartnerIdentity(db, secret, { workspaceId: entry.workspaceId, partnerId: entry.partnerId, kind: 'ip_hash', value: ipHash, at: entry.at });
}
