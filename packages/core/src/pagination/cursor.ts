import { createHmac, timingSafeEqual } from "node:crypto";
import { isUuid } from "../ids.ts";

/**
 * Keyset position of the last item of a page: (created_at, id). created_at is minted by the
 * service with millisecond precision (the same instant as the UUIDv7), so it round-trips exactly.
 * The cursor is opaque to clients and signed, so a tampered or forged cursor is rejected instead
 * of silently skipping rows. Layout before base64url: 8 bytes created_at (ms), 16 bytes id,
 * 16 bytes HMAC tag. A list ordered by a number of its own (a workflow's versions) is paged by a
 * sequence cursor instead: 8 bytes of that number, 16 bytes HMAC tag.
 */
export interface Position {
  createdAt: Date;
  id: string;
}

const TAG_BYTES = 16;

export class CursorCodec {
  constructor(private readonly secret: string) {}

  private tag(body: Buffer, scope: string): Buffer {
    return createHmac("sha256", this.secret).update(scope).update(body).digest().subarray(0, TAG_BYTES);
  }

  /** `scope` binds the cursor to one list and filter set: a runs cursor cannot page workflows. */
  encode(pos: Position, scope: string): string {
    const body = Buffer.alloc(24);
    body.writeBigInt64BE(BigInt(pos.createdAt.getTime()), 0);
    Buffer.from(pos.id.replaceAll("-", ""), "hex").copy(body, 8);
    return Buffer.concat([body, this.tag(body, scope)]).toString("base64url");
  }

  /** Returns null for anything that was not minted by `encode` with the same secret and scope. */
  decode(cursor: string, scope: string): Position | null {
    if (!/^[A-Za-z0-9_-]{54}$/.test(cursor)) return null;
    const raw = Buffer.from(cursor, "base64url");
    // Canonical encoding only: the last character carries 2 spare bits that decoding ignores.
    if (raw.length !== 24 + TAG_BYTES || raw.toString("base64url") !== cursor) return null;
    const body = raw.subarray(0, 24);
    if (!timingSafeEqual(raw.subarray(24), this.tag(body, scope))) return null;
    const hex = body.subarray(8).toString("hex");
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return isUuid(id) ? { createdAt: new Date(Number(body.readBigInt64BE(0))), id } : null;
  }

  /** The position of a list ordered by an integer key (the last key of a page). */
  encodeSequence(n: number, scope: string): string {
    const body = Buffer.alloc(8);
    body.writeBigInt64BE(BigInt(n), 0);
    return Buffer.concat([body, this.tag(body, scope)]).toString("base64url");
  }

  /** Returns null for anything that was not minted by `encodeSequence` with the same secret and scope. */
  decodeSequence(cursor: string, scope: string): number | null {
    if (!/^[A-Za-z0-9_-]{32}$/.test(cursor)) return null;
    const raw = Buffer.from(cursor, "base64url");
    if (raw.length !== 8 + TAG_BYTES || raw.toString("base64url") !== cursor) return null;
    const body = raw.subarray(0, 8);
    if (!timingSafeEqual(raw.subarray(8), this.tag(body, scope))) return null;
    const n = Number(body.readBigInt64BE(0));
    return Number.isSafeInteger(n) ? n : null;
  }
}
