import type pg from 'pg';
import { ApiError, type CreateLinkBody, type ErrorDetail, type Link, type UtmTags } from '@tandem/contracts';
import { isDestinationAllowed, withQuery } from '@tandem/core';
import { actorOf, recordAudit } from '../audit/record.js';
import type { WorkspaceAuth } from '../../http/context.js';
import { createLink, shortUrl, type LinkProgram } from './create-link.js';
import { notifyLinkChanged } from './notify.js';

/** A link as stored, with what the API shows about it. */
export interface LinkRecord {
  workspace_id: string;
  id: string;
  program_id: string;
  partner_id: string;
  key: string;
  destination_url: string;
  utm: Record<string, string> | null;
  is_default: boolean;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const LINK_COLUMNS = 'workspace_id, id, program_id, partner_id, key, destination_url, utm, is_default, archived_at, created_at, updated_at';

/** `{source: 'x'}` → `{utm_source: 'x'}`: the query parameters the destination gets. */
export function utmParameters(utm: UtmTags | undefined): Record<string, string> | undefined {
  if (!utm) return undefined;
  const entries = Object.entries(utm).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length > 0 ? Object.fromEntries(entries.map(([k, v]) => [`utm_${k}`, v])) : undefined;
}

function utmTagsOf(stored: Record<string, string> | null): UtmTags | null {
  if (!stored) return null;
  return Object.fromEntries(Object.entries(stored).map(([k, v]) => [k.replace(/^utm_/, ''), v])) as UtmTags;
}

export function toApiLink(row: LinkRecord, publicUrl: string): Link {
  return {
    id: row.id,
    key: row.key,
    shortUrl: shortUrl(publicUrl, row.key),
    destinationUrl: row.destination_url,
    programId: row.program_id,
    partnerId: row.partner_id,
    utm: utmTagsOf(row.utm),
    isDefault: row.is_default,
    archived: row.archived_at !== null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function loadLinkProgram(
  client: pg.PoolClient | pg.Pool,
  workspaceId: string,
  programId: string,
): Promise<LinkProgram | null> {
  const { rows } = await client.query<{ id: string; destination_url: string; allowed_domains: string[] }>(
    'select id, destination_url, allowed_domains from programs where workspace_id = $1 and id = $2',
    [workspaceId, programId],
  );
  const row = rows[0];
  return row ? { id: row.id, destinationUrl: row.destination_url, allowedDomains: row.allowed_domains } : null;
}

/**
 * Checks that the program is this workspace's and that the partner is approved in it; the error
 * details name the offending field (`programId`, `partnerId`).
 */
async function programForNewLink(
  client: pg.PoolClient,
  workspaceId: string,
  body: CreateLinkBody,
  programs: Map<string, LinkProgram | null>,
): Promise<LinkProgram> {
  if (!programs.has(body.programId)) programs.set(body.programId, await loadLinkProgram(client, workspaceId, body.programId));
  const program = programs.get(body.programId);
  if (!program)
    throw new ApiError('not_found', 'Program not found', [{ path: 'programId', message: 'is not a program of this workspace' }]);
  const { rows } = await client.query<{ status: string }>(
    'select status from enrollments where workspace_id = $1 and program_id = $2 and partner_id = $3',
    [workspaceId, body.programId, body.partnerId],
  );
  const status = rows[0]?.status;
  if (!status) {
    // Another workspace's partner, or none at all, is simply not found here (tenancy: 404, never 422).
    const partner = await client.query('select 1 from partners where workspace_id = $1 and id = $2', [workspaceId, body.partnerId]);
    if (partner.rowCount === 0) throw new ApiError('not_found', 'Partner not found', [{ path: 'partnerId', message: 'is not a partner of this workspace' }]);
  }
  if (status !== 'approved') {
    throw new ApiError('unprocessable', 'The partner is not an approved member of this program', [
      { path: 'partnerId', message: status ? `is ${status} in this program, not approved` : 'is not enrolled in this program' },
    ]);
  }
  return program;
}

async function insertLink(
  client: pg.PoolClient,
  workspaceId: string,
  body: CreateLinkBody,
  programs: Map<string, LinkProgram | null>,
): Promise<string> {
  const program = await programForNewLink(client, workspaceId, body, programs);
  const created = await createLink(client, {
    workspaceId,
    program,
    partnerId: body.partnerId,
    key: body.key,
    destinationUrl: body.destinationUrl,
    utm: utmParameters(body.utm),
  });
  return created.id;
}

/** Creates one link inside the caller's transaction and records it in the audit log. */
export async function createPartnerLink(client: pg.PoolClient, auth: WorkspaceAuth, body: CreateLinkBody): Promise<LinkRecord> {
  const id = await insertLink(client, auth.workspaceId, body, new Map());
  const link = (await findLink(client, auth.workspaceId, id))!;
  await recordAudit(client, {
    workspaceId: auth.workspaceId,
    actor: actorOf(auth),
    action: 'link.created',
    target: { type: 'link', id },
    after: { key: link.key, destinationUrl: link.destination_url },
  });
  return link;
}

/**
 * Creates every link or none. Each item is tried (in its own savepoint, see createLink) so that
 * one call reports all the bad items at once, each error named `links.<index>.<field>`.
 */
export async function bulkCreatePartnerLinks(client: pg.PoolClient, auth: WorkspaceAuth, items: CreateLinkBody[]): Promise<LinkRecord[]> {
  const programs = new Map<string, LinkProgram | null>();
  const ids: string[] = [];
  const details: ErrorDetail[] = [];
  let onlyConflicts = true;
  for (const [index, item] of items.entries()) {
    try {
      ids.push(await insertLink(client, auth.workspaceId, item, programs));
    } catch (error) {
      if (!(error instanceof ApiError) || error.code === 'internal') throw error;
      if (error.code !== 'conflict') onlyConflicts = false;
      for (const d of error.details ?? [{ path: '(item)', message: error.message }])
        details.push({ ...d, path: `links.${index}.${d.path}` });
    }
  }
  if (details.length > 0) {
    throw new ApiError(
      onlyConflicts ? 'conflict' : 'unprocessable',
      `${details.length} of the ${items.length} links cannot be created; none was`,
      details,
    );
  }
  const { rows } = await client.query<LinkRecord>(
    `select ${LINK_COLUMNS} from links where workspace_id = $1 and id = any($2::text[]) order by id`,
    [auth.workspaceId, ids],
  );
  await recordAudit(client, {
    workspaceId: auth.workspaceId,
    actor: actorOf(auth),
    action: 'link.bulk_created',
    after: { count: rows.length, keys: rows.map((r) => r.key) },
  });
  return rows;
}

export async function findLink(client: pg.PoolClient | pg.Pool, workspaceId: string, id: string): Promise<LinkRecord | null> {
  const { rows } = await client.query<LinkRecord>(`select ${LINK_COLUMNS} from links where workspace_id = $1 and id = $2`, [
    workspaceId,
    id,
  ]);
  return rows[0] ?? null;
}

export async function getLinkOrThrow(client: pg.PoolClient | pg.Pool, workspaceId: string, id: string): Promise<LinkRecord> {
  const link = await findLink(client, workspaceId, id);
  if (!link) throw new ApiError('not_found', 'Link not found');
  return link;
}

export interface LinkFilter {
  programId?: string;
  partnerId?: string;
  archived: boolean;
  after?: string;
  limit: number;
}

/** Newest first, keyset-paginated by id; one more row than asked tells whether a next page exists. */
export async function listLinks(pool: pg.Pool, workspaceId: string, filter: LinkFilter): Promise<LinkRecord[]> {
  const { rows } = await pool.query<LinkRecord>(
    `select ${LINK_COLUMNS} from links
      where workspace_id = $1 and ($2::text is null or program_id = $2) and ($3::text is null or partner_id = $3)
        and (archived_at is not null) = $4 and ($5::text is null or id < $5)
      order by id desc limit $6`,
    [workspaceId, filter.programId ?? null, filter.partnerId ?? null, filter.archived, filter.after ?? null, filter.limit + 1],
  );
  return rows;
}

export interface LinkChange {
  destinationUrl?: string;
  archived?: boolean;
}

/**
 * Changes a link's destination (still inside the program's domains, its UTM tags kept) or archives
 * / restores it. Every node's redirect cache hears of it when the transaction commits.
 */
export async function updateLink(client: pg.PoolClient, auth: WorkspaceAuth, id: string, change: LinkChange): Promise<LinkRecord> {
  const { rows } = await client.query<LinkRecord>(`select ${LINK_COLUMNS} from links where workspace_id = $1 and id = $2 for update`, [
    auth.workspaceId,
    id,
  ]);
  const before = rows[0];
  if (!before) throw new ApiError('not_found', 'Link not found');
  let destination = before.destination_url;
  if (change.destinationUrl !== undefined) {
    const program = await loadLinkProgram(client, auth.workspaceId, before.program_id);
    if (!program || !isDestinationAllowed(change.destinationUrl, program.destinationUrl, program.allowedDomains)) {
      throw new ApiError('unprocessable', 'The destination is outside the program’s allowed domains', [
        { path: 'destinationUrl', message: 'must be on the program’s destination host or one of its allowed domains' },
      ]);
    }
    destination = before.utm ? withQuery(change.destinationUrl, before.utm) : change.destinationUrl;
  }
  const archivedAt = change.archived === undefined ? before.archived_at : change.archived ? (before.archived_at ?? new Date()) : null;
  const { rows: updated } = await client.query<LinkRecord>(
    `update links set destination_url = $3, archived_at = $4, updated_at = now() where workspace_id = $1 and id = $2 returning ${LINK_COLUMNS}`,
    [auth.workspaceId, id, destination, archivedAt],
  );
  const after = updated[0]!;
  await notifyLinkChanged(client, after.key);
  const action =
    change.archived === true && !before.archived_at
      ? 'link.archived'
      : change.archived === false && before.archived_at
        ? 'link.restored'
        : 'link.updated';
  await recordAudit(client, {
    workspaceId: auth.workspaceId,
    actor: actorOf(auth),
    action,
    target: { type: 'link', id },
    before: { destinationUrl: before.destination_url, archived: before.archived_at !== null },
    after: { destinationUrl: after.destination_url, archived: after.archived_at !== null },
  });
  return after;
}
