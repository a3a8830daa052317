import { STRING_FORMATS } from "@wf/contract/formats";
import { FormatRegistry } from "elysia/type-system";

/**
 * Registers the contract's checks for the string formats its schemas use. Importing
 * `@elysiajs/openapi` (through `@sinclair/typemap`) replaces TypeBox's global format checks with
 * ones that build a Zod schema on every call (cost: bench/FINDINGS.md); the registry is
 * process-global, so this runs after that import, when the app is built.
 */
export function registerStringFormats(): void {
  for (const [name, check] of Object.entries(STRING_FORMATS)) FormatRegistry.Set(name, check);
}
