import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Prefix of every key this service issues: recognisable in a leaked log or a secret scanner. */
export const KEY_PREFIX = "wfk_";

/** A new key: 32 random bytes, so a fast hash is enough to store it (no dictionary to guess from). */
export const newKey = (): string => `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;

/** What is stored and compared: the SHA-256 digest, never the key. */
export const hashKey = (key: string): Buffer => createHash("sha256").update(key, "utf8").digest();

/**
 * Equality whose time depends only on the length, not on how many leading bytes match, so a
 * client cannot find a key byte by byte from response times.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return timingSafeEqual(a, b);
}
