-- Webhook signing secrets sealed at rest like secrets (016): AES-256-GCM under a configured key
-- (`secret_key_id`), a random nonce per value, the ciphertext with its GCM tag. The clear `secret`
-- column stays, nullable, for rows written before this migration (or by an API not yet upgraded):
-- the dispatcher signs with either form, and `bun run secrets:rotate` seals the clear ones.
ALTER TABLE webhooks
  ALTER COLUMN secret DROP NOT NULL,
  ADD COLUMN secret_key_id     text,
  ADD COLUMN secret_nonce      bytea,
  ADD COLUMN secret_ciphertext bytea,
  -- Exactly one form: clear, or sealed with all three parts.
  ADD CONSTRAINT webhooks_secret_one_form CHECK (
    CASE WHEN secret IS NULL
         THEN secret_key_id IS NOT NULL AND secret_nonce IS NOT NULL AND secret_ciphertext IS NOT NULL
         ELSE secret_key_id IS NULL AND secret_nonce IS NULL AND secret_ciphertext IS NULL
    END
  );
