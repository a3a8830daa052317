import { v7 as uuidv7, validate, version } from "uuid";

/** Time-ordered ids: newer rows sort after older ones, which keyset pagination relies on. */
export const newId = (): string => uuidv7();

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Eight-four-four-four-twelve hex digits, whatever the version and variant digits say. */
export const hasUuidShape = (s: string): boolean => UUID_SHAPE.test(s);

/** True for any well-formed UUID (clients may hold ids of any version; we only mint v7). */
export const isUuid = (s: string): boolean => hasUuidShape(s) && validate(s);

export const isUuidV7 = (s: string): boolean => isUuid(s) && version(s) === 7;
