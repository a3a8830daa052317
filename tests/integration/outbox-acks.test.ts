import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { OutboxAcks } from "@wf/platform/bus";
import { loadConfig } from "@wf/platform/config";
import { createLogger } from "@wf/platform/observability";
import { createSql, pgArray, type Sql } from "@wf/platform/sql";
import { unique, waitFor } from "../support/api.ts";

const TOPIC = unique("outbox-acks");
let sql: Sql;

beforeAll(() => {
  sql = createSql(loadConfig(process.env, { logLevel: "warn" }), undefined, 2);
});
afterAll(async () => {
  await sql`DELETE FROM outbox WHERE topic = ${TOPIC}`;
  await sql.end();
});

/** Outbox rows of this test's own topic, as a trigger writes them; their ids. */
async function outboxRows(n: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    INSERT INTO outbox (topic, key, payload)
    SELECT ${TOPIC}, 'k' || g, '{}'::jsonb FROM generate_series(1, ${n}::int) AS g
    RETURNING id::text AS id`;
  return rows.map((r) => r.id);
}

const left = async (ids: string[]) =>
  (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM outbox WHERE id = ANY(${pgArray(ids)}::bigint[])`)[0]!.n;

describe("outbox acks, real PostgreSQL through PgBouncer", () => {
  test("acknowledged rows are deleted, and acks that come after an idle spell are deleted too", async () => {
    const acks = new OutboxAcks(sql, createLogger("silent"), 20);
    const first = await outboxRows(3);
    for (const id of first) acks.ack(id);
    await waitFor("the first acks' rows to be deleted", async () => (await left(first)) === 0, 10_000, 20);

    // Idle for several intervals: the timer is armed again by the next ack, not left ticking.
    await Bun.sleep(150);
    const later = await outboxRows(2);
    for (const id of later) acks.ack(id);
    await waitFor("the later acks' rows to be deleted", async () => (await left(later)) === 0, 10_000, 20);

    // After close an ack is left for the relay: its row stays.
    await acks.close();
    const afterClose = await outboxRows(1);
    acks.ack(afterClose[0]!);
    await Bun.sleep(100);
    expect(await left(afterClose)).toBe(1);
  });
});
