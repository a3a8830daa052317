import { SECRET_NAME_PATTERN } from "../templates/template.ts";

export { isSecretName, SECRET_NAME_PATTERN } from "../templates/template.ts";
export * from "./redact.ts";

/** What a name that is not a secret's is told, wherever it comes (a path parameter, a template). */
export const SECRET_NAME_ERROR = `a secret name matches ${SECRET_NAME_PATTERN}`;
