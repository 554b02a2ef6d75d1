import { ApiError } from '@tandem/contracts';

/**
 * Keyset pagination over time-sortable ids, newest first. The cursor is the last id of the page,
 * opaque to clients (base64url) so we can change what it holds later.
 */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]{2,4}_[0-9a-z]{26}$/.test(id)) throw new ApiError('unprocessable', 'Invalid cursor', [{ path: 'cursor', message: 'is not a cursor from this list' }]);
  return id;
}

export function pageOf<T>(rows: T[], limit: number, idOf: (row: T) => string): { data: T[]; nextCursor: string | null } {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return { data, nextCursor: hasMore && last ? Buffer.from(idOf(last)).toString('base64url') : null };
}
