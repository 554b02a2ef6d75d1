import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { CUSTOM_LINK_KEY, isDestinationAllowed, newId, randomLinkKey, withQuery } from '@tandem/core';
import { isUniqueViolation } from '../../db/tx.js';
import { notifyLinkChanged } from './notify.js';

export interface LinkProgram {
  id: string;
  destinationUrl: string;
  allowedDomains: string[];
}

export interface CreateLinkInput {
  workspaceId: string;
  program: LinkProgram;
  partnerId: string;
  key?: string;
  destinationUrl?: string;
  utm?: Record<string, string>;
  isDefault?: boolean;
}

export interface LinkRow {
  id: string;
  key: string;
  destinationUrl: string;
}

/**
 * Creates a short link inside the caller’s transaction (the client must be in one: it uses a savepoint). The destination must stay inside the
 * program's domains (422 naming `destinationUrl`); a custom key that is taken is a 409; a random
 * key that collides is simply drawn again.
 */
export async function createLink(client: pg.PoolClient, input: CreateLinkInput): Promise<LinkRow> {
  const destination = input.destinationUrl ?? input.program.destinationUrl;
  if (!isDestinationAllowed(destination, input.program.destinationUrl, input.program.allowedDomains)) {
    throw new ApiError('unprocessable', 'The destination is outside the program’s allowed domains', [
      { path: 'destinationUrl', message: 'must be on the program’s destination host or one of its allowed domains' },
    ]);
  }
  if (input.key !== undefined && !CUSTOM_LINK_KEY.test(input.key)) {
    throw new ApiError('unprocessable', 'Invalid link key', [{ path: 'key', message: '3–64 letters, digits, - or _, starting with a letter or digit' }]);
  }
  const finalDestination = input.utm ? withQuery(destination, input.utm) : destination;
  for (let attempt = 0; attempt < 8; attempt++) {
    const key = input.key ?? randomLinkKey(attempt < 4 ? 7 : 9);
    const id = newId('lnk');
    try {
      await client.query('savepoint create_link');
      await client.query(
        `insert into links (workspace_id, id, program_id, partner_id, key, destination_url, utm, is_default)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [input.workspaceId, id, input.program.id, input.partnerId, key, finalDestination, input.utm ?? null, input.isDefault ?? false],
      );
      await client.query('release savepoint create_link');
      // A node may hold this key as "unknown" (someone tried it before it existed).
      await notifyLinkChanged(client, key);
      return { id, key, destinationUrl: finalDestination };
    } catch (error) {
      await client.query('rollback to savepoint create_link');
      if (!isUniqueViolation(error, 'links_key_key')) throw error;
      if (input.key !== undefined) throw new ApiError('conflict', `The link key '${input.key}' is taken`, [{ path: 'key', message: 'is taken' }]);
    }
  }
  throw new ApiError('internal', 'Could not find a free link key');
}

/** The public short URL of a key. */
export function shortUrl(publicUrl: string, key: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/r/${key}`;
}
