import { loadConfigOrExit } from "@wf/platform/config";
import { keyringFromConfig } from "@wf/platform/secrets";
import { createSql, migrate } from "@wf/platform/sql";
import { rotateWebhookSecrets } from "../webhooks/rotation.ts";
import { WebhookStore } from "../webhooks/store.ts";
import { rotateSecrets } from "./rotation.ts";
import { SecretStore } from "./store.ts";

// `bun run secrets:rotate`: every secret, and every webhook's signing secret, re-encrypted under
// SECRETS_ACTIVE_KEY (docs/secrets.md).
const config = loadConfigOrExit("secrets:rotate");
const keyring = keyringFromConfig(config, (m) => console.error(`secrets:rotate: ${m}`));
const sql = createSql(config, config.databaseDirectUrl, 1);
try {
  await migrate(sql);
  const { resealed, unreadable, byKey } = await rotateSecrets(new SecretStore(sql), keyring);
  const others = [...byKey].filter(([id]) => id !== keyring.activeId);
  console.log(`re-encrypted ${resealed} secret(s) under key "${keyring.activeId}"`);
  for (const [id, n] of byKey) console.log(`key ${id}: ${n} secret(s)`);
  for (const u of unreadable) console.error(`secrets:rotate: ${u.name} left as it is: ${u.error}`);
  const hooks = await rotateWebhookSecrets(new WebhookStore(sql), keyring);
  const hookOthers = [...hooks.byKey].filter(([id]) => id !== keyring.activeId);
  console.log(`re-encrypted ${hooks.resealed} webhook secret(s) under key "${keyring.activeId}"`);
  for (const [id, n] of hooks.byKey) console.log(`key ${id}: ${n} webhook secret(s)`);
  for (const u of hooks.unreadable) console.error(`secrets:rotate: webhook ${u.id} left as it is: ${u.error}`);
  if (others.length > 0 || hookOthers.length > 0) {
    // Unreadable ones (above), ones under a key not configured here, or written by a process still
    // running with the previous active key: for those, run it again once every process uses the new one.
    console.error("secrets:rotate: some values are still under other keys; run it again once every process uses the new active key");
    process.exitCode = 1;
  }
} catch (err) {
  console.error(`secrets:rotate: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await sql.end();
}
