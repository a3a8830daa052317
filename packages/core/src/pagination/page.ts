import { badRequest } from "../errors.ts";
import type { CursorCodec, Position } from "./cursor.ts";

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export const PAGE_LIMIT = { min: 1, max: 200, default: 50 } as const;

export interface PageRequest {
  limit?: number;
  cursor?: string;
}

const invalidCursor = () =>
  badRequest("cursor is not valid for this list", [{ path: "/cursor", message: "cursor was not issued by this list or was altered" }]);

/** Decodes the cursor of a request, or fails with a 400-kind error naming the parameter. */
export function startAfter(codec: CursorCodec, req: PageRequest, scope: string): Position | undefined {
  if (req.cursor === undefined || req.cursor === "") return undefined;
  const pos = codec.decode(req.cursor, scope);
  if (!pos) throw invalidCursor();
  return pos;
}

/** As `startAfter`, for a list ordered by an integer key, newest (largest) first. */
export function startAfterSequence(codec: CursorCodec, req: PageRequest, scope: string): number | undefined {
  if (req.cursor === undefined || req.cursor === "") return undefined;
  const n = codec.decodeSequence(req.cursor, scope);
  if (n === null) throw invalidCursor();
  return n;
}

/**
 * Builds a page from `limit + 1` rows fetched newest first: the extra row only tells whether a
 * next page exists, and the cursor points at the last row returned.
 */
export function toPage<R extends { id: string; created_at: Date }, T>(
  rows: R[],
  limit: number,
  codec: CursorCodec,
  scope: string,
  map: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return {
    items: kept.map(map),
    next_cursor: more && last ? codec.encode({ createdAt: last.created_at, id: last.id }, scope) : null,
  };
}

/** As `toPage`, for a list ordered by an integer key: the cursor holds the last row's key. */
export function toSequencePage<R, T>(
  rows: R[],
  limit: number,
  codec: CursorCodec,
  scope: string,
  key: (row: R) => number,
  map: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { items: kept.map(map), next_cursor: more && last ? codec.encodeSequence(key(last), scope) : null };
}
