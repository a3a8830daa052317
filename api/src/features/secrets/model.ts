import { Secret, SecretInput, SecretPage } from "@wf/contract/secrets";
import { Elysia } from "elysia";

/** The contract's secret schemas, named for the routes and the OpenAPI document. */
export const secretModels = new Elysia({ name: "secrets.model" }).model({
  "secret.input": SecretInput,
  secret: Secret,
  "secret.page": SecretPage,
});
