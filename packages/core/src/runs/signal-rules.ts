import type { FieldError } from "../errors.ts";
import { jsonBytes, jsonValueProblems } from "../json/storable.ts";
import { LIMITS, STEP_NAME_PATTERN } from "../workflows/definition.ts";
import type { TriggerLimits } from "./trigger-rules.ts";

const SIGNAL_NAME = new RegExp(STEP_NAME_PATTERN);

export const SIGNAL_NAME_ERROR = `a signal name is 1 to ${LIMITS.maxStepNameLength} letters, digits, '_' or '-'`;

/** Where a bad signal name is reported: it is a path parameter, not a place in the body. */
export const SIGNAL_NAME_PATH = "name";

/**
 * A signal as `POST /runs/{id}/signals/{name}` takes it: its name spelled like a step's (it is
 * written in a `wait_for_signal` step), its payload (the body, any JSON) bounded and storable as a
 * trigger's input is, since it becomes a step's output.
 */
export function validateSignal(name: string, payload: unknown, limits: TriggerLimits): FieldError[] {
  const errs: FieldError[] = [];
  if (!SIGNAL_NAME.test(name) || name.length > LIMITS.maxStepNameLength)
    errs.push({
      path: SIGNAL_NAME_PATH,
      message: SIGNAL_NAME_ERROR,
    });
  const bytes = jsonBytes(payload);
  if (bytes > limits.maxInputBytes)
    errs.push({ path: "", message: `the payload is ${bytes} bytes of JSON; at most ${limits.maxInputBytes} are accepted` });
  else errs.push(...jsonValueProblems(payload, ""));
  return errs;
}
