export { isSecretName, SECRET_NAME_PATTERN } from "../templates/template.ts";
export * from "./redact.ts";
