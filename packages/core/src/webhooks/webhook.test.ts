import { describe, expect, test } from "bun:test";
import { nextRetryMs, RETRY_MULTIPLES } from "./retry.ts";
import { validateWebhook, webhookPayload } from "./webhook.ts";

describe("nextRetryMs", () => {
  const policy = { baseMs: 5000, maxAgeMs: 86_400_000 };
  test("5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h (jitter at its middle)", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => nextRetryMs(n, 0, policy, 0.5));
    expect(delays).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000, 36_000_000]);
  });

  test("±20 % jitter", () => {
    expect(nextRetryMs(2, 0, policy, 0)).toBe(240_000);
    expect(nextRetryMs(2, 0, policy, 0.999_999)).toBe(360_000);
  });

  test("tried for more than a day: the schedule's sum passes 24 h before the delivery fails", () => {
    let age = 0;
    let attempts = 0;
    for (;;) {
      attempts++;
      const next = nextRetryMs(attempts, age, policy, 0);
      if (next === null) break;
      age += next;
    }
    expect(age).toBeGreaterThanOrEqual(policy.maxAgeMs);
    expect(attempts).toBeGreaterThan(RETRY_MULTIPLES.length);
  });
});

describe("validateWebhook", () => {
  test("an http(s) URL and known events, each once", () => {
    const ok = validateWebhook({ url: "https://example.com/hook", events: ["run.failed", "run.completed"] });
    expect(ok.errors).toBeUndefined();
    expect(validateWebhook({ url: "mailto:a@b.c", events: ["run.failed"] }).errors).toEqual([
      { path: "/url", message: "must be an http or https URL, not mailto:" },
    ]);
    expect(validateWebhook({ url: "/relative", events: ["run.failed"] }).errors?.[0]?.path).toBe("/url");
    expect(
      validateWebhook({ url: "http://x.test", events: ["run.failed", "run.failed", "run.started"] }).errors?.map((e) => e.path),
    ).toEqual(["/events/1", "/events/2"]);
  });
});

test("the payload: type, the event's time, the run without its steps", () => {
  const at = new Date("2026-01-02T03:04:05.678Z");
  const body = webhookPayload("run.failed", {
    id: "r",
    workflow_id: "w",
    workflow_version: 2,
    status: "failed",
    output: undefined,
    error: "boom",
    created_at: at,
    started_at: null,
    finished_at: at,
  });
  expect(JSON.parse(body)).toEqual({
    type: "run.failed",
    timestamp: at.toISOString(),
    data: {
      id: "r",
      workflow_id: "w",
      workflow_version: 2,
      status: "failed",
      output: null,
      error: "boom",
      created_at: at.toISOString(),
      started_at: null,
      finished_at: at.toISOString(),
    },
  });
});
