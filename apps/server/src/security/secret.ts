import fs from 'node:fs/promises';
import path from 'node:path';
import { randomToken } from './crypto.js';

/**
 * The instance secret signs and keys hashes. From TANDEM_SECRET when set (required for several
 * nodes, which must share it); otherwise generated once and kept in the data directory.
 */
export async function loadOrCreateSecret(configured: string | undefined, dataDir: string): Promise<string> {
  if (configured) return configured;
  const file = path.join(dataDir, 'secret');
  try {
    const existing = (await fs.readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch {
    /* first start */
  }
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomToken(48);
  try {
    await fs.writeFile(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  } catch {
    // Another process created it first: use theirs.
    return (await fs.readFile(file, 'utf8')).trim();
  }
}
