-- Secrets that http steps send: each value sealed with AES-256-GCM under one of the configured
-- keys (`key_id`), a random 96-bit nonce per value, the name as additional authenticated data; the
-- ciphertext column holds the GCM tag after the ciphertext. No value is ever stored in clear.
-- `id` (UUIDv7 of the first PUT) and `created_at` order the list; a PUT of an existing name keeps them.
CREATE TABLE secrets (
  name       text PRIMARY KEY,
  id         uuid        NOT NULL,
  key_id     text        NOT NULL,
  nonce      bytea       NOT NULL,
  ciphertext bytea       NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
-- Keyset pagination, newest first.
CREATE INDEX secrets_created_idx ON secrets (created_at DESC, id DESC);
-- The rotation's scan: values sealed under another key than the active one.
CREATE INDEX secrets_key_idx ON secrets (key_id);
