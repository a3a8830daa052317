-- What each API key may do (see @wf/core/scopes; a new scope also replaces the constraint below).
-- Keys made before scopes existed could do everything, so they become admin; the default keeps an
-- older `keys create` doing the same.
ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{admin}';
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_known CHECK (
  cardinality(scopes) > 0
  AND scopes <@ ARRAY['workflows:read', 'workflows:write', 'runs:read', 'runs:write', 'secrets:write', 'admin']::text[]
);
