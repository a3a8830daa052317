import { isUuid } from "@wf/core/ids";
import { fullFormats } from "elysia/type-system/format";

/**
 * A number as a query string may spell it, the same on both servers: decimal digits, an optional
 * minus and fraction. Not `!isNaN(+text)`, which also takes "0x10", "1e1", "+5" and " 5".
 */
export const QUERY_NUMBER = /^-?\d+(\.\d+)?$/;

/** The checks for the string formats the schemas declare. */
export const STRING_FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  // As strict as the check it replaces: version and variant digits must be those of a real UUID.
  uuid: isUuid,
  "date-time": fullFormats["date-time"],
  // t.Numeric's query strings, as the Node reference converts them (Elysia's own check is `!isNaN(+value)`).
  numeric: (value) => QUERY_NUMBER.test(value),
};
