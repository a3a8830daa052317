import type { FieldError } from "../errors.ts";
import { isStorableText, jsonBytes, jsonValueProblems, UNSTORABLE_TEXT } from "../json/storable.ts";

/** The largest input accepted unless TRIGGER_MAX_INPUT_BYTES says otherwise. */
export const DEFAULT_MAX_INPUT_BYTES = 65_536;

export interface TriggerLimits {
  /** Largest input, in UTF-8 bytes of its JSON (TRIGGER_MAX_INPUT_BYTES). */
  maxInputBytes: number;
}

/**
 * What the HTTP schema cannot say about a trigger: the input is stored with the run and sent back
 * on every read of it (up to 200 runs a page), so its size is bounded; and the input and the key
 * must be storable as they are (see json/storable.ts).
 */
export function validateTrigger(req: { input?: unknown; idempotency_key?: string }, limits: TriggerLimits): FieldError[] {
  const errs: FieldError[] = [];
  if (req.idempotency_key !== undefined && !isStorableText(req.idempotency_key))
    errs.push({ path: "/idempotency_key", message: `idempotency_key ${UNSTORABLE_TEXT}` });
  if (req.input !== undefined) {
    const bytes = jsonBytes(req.input);
    if (bytes > limits.maxInputBytes)
      errs.push({ path: "/input", message: `input is ${bytes} bytes of JSON; at most ${limits.maxInputBytes} are accepted` });
    else errs.push(...jsonValueProblems(req.input, "/input"));
  }
  return errs;
}
