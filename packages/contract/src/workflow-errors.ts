import type { FieldError } from "@wf/core/errors";
import { type DefinitionLimits, validateDefinition } from "@wf/core/workflows";

const inSteps = (path: string) => path.startsWith("/steps/");

/**
 * The field errors to answer for a workflow body that broke the WorkflowInput schema. A step is a
 * union by `type`, and a union's failure does not say which field is wrong (TypeBox: one error at
 * the step; ajv: one per variant), so inside the steps the core's validator, the authority on
 * definitions, names the fields instead; errors outside the steps stay the schema's. Both servers
 * answer this way, so they answer alike. No Elysia import here: the Node reference loads it.
 */
export function workflowInputErrors(body: unknown, schemaErrors: readonly FieldError[], limits?: DefinitionLimits): FieldError[] {
  if (!schemaErrors.some((e) => inSteps(e.path))) return [...schemaErrors];
  const errors = [...schemaErrors.filter((e) => !inSteps(e.path)), ...validateDefinition(body, limits).filter((e) => inSteps(e.path))];
  // Never an empty answer to a body the schema refused.
  return errors.length > 0 ? errors : [...schemaErrors];
}
