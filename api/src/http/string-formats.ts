import { isUuid } from "@wf/core/ids";
import { QUERY_NUMBER } from "@wf/http";
import { FormatRegistry } from "elysia/type-system";
import { fullFormats } from "elysia/type-system/format";

/** The checks for the string formats our models declare. */
export const MODEL_FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  // As strict as the check it replaces: version and variant digits must be those of a real UUID.
  uuid: isUuid,
  "date-time": fullFormats["date-time"],
  // t.Numeric's query strings, as the Node reference converts them (Elysia's own check is
  // `!isNaN(+value)`).
  numeric: (value) => QUERY_NUMBER.test(value),
};

/**
 * Registers cheap checks for the formats our models use.
 *
 * Importing `@elysiajs/openapi` (through `@sinclair/typemap`) replaces TypeBox's global format
 * checks with ones that build a fresh Zod schema on every call: in a 10k-user flow that was ~8 % of
 * the API's CPU, spent checking one uuid per trigger. The registry is process-global, so this runs
 * after that import, when the app is built.
 */
export function registerStringFormats(): void {
  for (const [name, check] of Object.entries(MODEL_FORMATS)) FormatRegistry.Set(name, check);
}
