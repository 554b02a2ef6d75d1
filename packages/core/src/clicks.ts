/**
 * Click ids travel as `clk_` + the 32 hex digits of a UUIDv7 (time-ordered, so batch inserts append
 * to the index); the database stores the uuid itself (16 bytes).
 */
const CLICK_ID = /^clk_([0-9a-f]{32})$/;

export function clickIdFromUuid(uuid: string): string {
  return `clk_${uuid.replace(/-/g, '')}`;
}

/** The uuid behind a public click id, or null when it is not one. */
export function uuidFromClickId(clickId: string): string | null {
  const m = CLICK_ID.exec(clickId);
  if (!m) return null;
  const h = m[1]!;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Milliseconds since the epoch encoded in a UUIDv7 click id (its first 48 bits). */
export function clickTime(clickId: string): number | null {
  const m = CLICK_ID.exec(clickId);
  return m ? parseInt(m[1]!.slice(0, 12), 16) : null;
}
