import { MAX_SECRET_VALUE_BYTES, SECRET_NAME_ERROR, SECRET_NAME_PATTERN } from "@wf/core/secrets";
import { t } from "elysia";
import { responseOnly } from "./types.ts";

const Timestamp = t.String({ format: "date-time" });

export const SecretParams = t.Object({
  name: t.String({
    pattern: SECRET_NAME_PATTERN,
    error: SECRET_NAME_ERROR,
    description: `The secret's name, as {{secrets.NAME}} reads it: ${SECRET_NAME_PATTERN} (an upper-case letter, then up to 63 upper-case letters, digits or _). Another name is a 422 whose error path is "name".`,
  }),
});

export const SecretInput = t.Object(
  {
    value: t.String({
      minLength: 1,
      maxLength: MAX_SECRET_VALUE_BYTES,
      description: `The secret's value: 1 to ${MAX_SECRET_VALUE_BYTES} bytes of UTF-8, no unpaired surrogate; otherwise a 422. Encrypted at rest (AES-256-GCM) and never shown again: not by this API, not in a definition, run, step output or error, log line, cache entry or trace.`,
    }),
  },
  { additionalProperties: false },
);

export const Secret = responseOnly(
  t.Object({
    name: t.String({ pattern: SECRET_NAME_PATTERN }),
    key_id: t.String({ description: "The id of the SECRETS_KEYS key its value is encrypted with (after a rotation, the active one)" }),
    created_at: Timestamp,
    updated_at: t.String({ format: "date-time", description: "When its value was last set" }),
  }),
);

export const SecretPage = responseOnly(t.Object({ items: t.Array(Secret), next_cursor: t.Nullable(t.String()) }));
