-- API keys, stored as SHA-256 digests only: a leaked table grants nothing. A revoked key stays
-- (revoked_at set) so that its name and history remain visible.
CREATE TABLE api_keys (
  id         uuid PRIMARY KEY,
  name       text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  key_hash   bytea       NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
