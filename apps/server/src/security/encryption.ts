import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/*
 * Encryption at rest for values Tandem must read back (webhook signing secrets, raw identifiers a
 * brand chooses to keep): AES-256-GCM with a fresh 96-bit nonce per value. The key is derived from
 * the instance secret with HKDF and a purpose label, so one leaked derived key does not open the
 * others and rotating TANDEM_SECRET changes every key. The purpose is also bound as associated
 * data: a ciphertext copied from one column into another does not decrypt.
 *
 * Stored form: `v1.<nonce>.<ciphertext>.<tag>`, each part base64url.
 */
const VERSION = 'v1';

export type EncryptionPurpose = 'webhook-secret' | 'stripe-endpoint-secret' | 'identifier' | 'outgoing-mail';

function keyFor(secret: string, purpose: EncryptionPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'tandem-encryption', `tandem:${purpose}`, 32));
}

export function encryptValue(secret: string, purpose: EncryptionPurpose, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret, purpose), nonce);
  cipher.setAAD(Buffer.from(purpose));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, nonce.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Throws when the value was tampered with, was encrypted for another purpose or with another secret. */
export function decryptValue(secret: string, purpose: EncryptionPurpose, stored: string): string {
  const [version, nonce, body, tag] = stored.split('.');
  if (version !== VERSION || !nonce || body === undefined || !tag) throw new Error('Not an encrypted value of a known version');
  const decipher = createDecipheriv('aes-256-gcm', keyFor(secret, purpose), Buffer.from(nonce, 'base64url'));
  decipher.setAAD(Buffer.from(purpose));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
