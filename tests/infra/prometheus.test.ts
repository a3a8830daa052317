import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, read, sh, yamlDocs } from "./lib.ts";

// The alert rules and both Prometheus configurations, checked by Prometheus' own promtool
// (installed with the prometheus package by `infra/stack install monitoring`, which ./dev test runs):
// the rules parse, their unit tests in infra/prometheus/tests pass, and every alert has a test
// where it fires and one where it does not, and a section of docs/operations.md.
const RULES = "infra/prometheus/rules";
const TESTS = "infra/prometheus/tests";
const tmp = mkdtempSync(join(tmpdir(), "wf-promtool-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

if (!Bun.which("promtool"))
  throw new Error("promtool is missing: `infra/stack install monitoring` installs it (Debian's prometheus package)");
const promtool = (...args: string[]) => sh(["promtool", ...args]);

const ruleFiles = readdirSync(join(ROOT, RULES)).filter((f) => f.endsWith(".yml"));
const testFiles = readdirSync(join(ROOT, TESTS)).filter((f) => f.endsWith(".yml"));
type Rule = { alert?: string; record?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const rules: Rule[] = ruleFiles.flatMap((f) => yamlDocs(`${RULES}/${f}`)[0].groups.flatMap((g: { rules: Rule[] }) => g.rules));
const alerts = rules.filter((r) => r.alert);

describe("Prometheus rules and configuration (promtool)", () => {
  test("promtool check rules: every rule file parses", () => {
    const r = promtool("check", "rules", ...ruleFiles.map((f) => join(ROOT, RULES, f)));
    expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.stringContaining("SUCCESS") });
  });

  test("promtool test rules: every unit test of infra/prometheus/tests passes", () => {
    expect(testFiles.length).toBeGreaterThanOrEqual(ruleFiles.length);
    const r = sh(["promtool", "test", "rules", ...testFiles], {}, join(ROOT, TESTS));
    expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.not.stringContaining("FAILED") });
    expect(r.out.match(/SUCCESS/g)?.length).toBe(testFiles.length);
  }, 60_000); // the 3-day windows of the slow burn are evaluated over the tests' hours of samples

  test("promtool test rules fails on a wrong expectation (the tests can fail)", () => {
    const broken = read(`${TESTS}/targets.test.yml`)
      .replace("../rules/targets.yml", join(ROOT, RULES, "targets.yml"))
      .replace('summary: "No worker is up"', 'summary: "Some worker is up"');
    writeFileSync(join(tmp, "broken.test.yml"), broken);
    const r = sh(["promtool", "test", "rules", "broken.test.yml"], {}, tmp);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("FAILED");
  });

  test("every alert has a unit test where it fires and one where it does not", () => {
    const cases = testFiles.flatMap((f) =>
      yamlDocs(`${TESTS}/${f}`)[0].tests.flatMap(
        (t: { alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }) => t.alert_rule_test ?? [],
      ),
    );
    for (const a of alerts) {
      const mine = cases.filter((c: { alertname: string }) => c.alertname === a.alert);
      const fires = mine.some((c: { exp_alerts?: unknown[] }) => (c.exp_alerts ?? []).length > 0);
      const quiet = mine.some((c: { exp_alerts?: unknown[] }) => (c.exp_alerts ?? []).length === 0);
      expect({ alert: a.alert, fires, quiet }).toEqual({ alert: a.alert, fires: true, quiet: true });
    }
  });

  test("every alert pages or makes a ticket, and its runbook is a section of docs/operations.md", () => {
    const anchors = new Set(
      [...read("docs/operations.md").matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, "")
          .replace(/ /g, "-"),
      ),
    );
    expect(alerts.length).toBeGreaterThan(10);
    for (const a of alerts) {
      expect({ alert: a.alert, severity: a.labels?.severity }).toEqual({
        alert: a.alert,
        severity: expect.stringMatching(/^(page|ticket)$/),
      });
      const anchor = a.annotations?.runbook?.replace("docs/operations.md#", "");
      expect({ alert: a.alert, anchor, documented: anchors.has(anchor ?? "") }).toEqual({ alert: a.alert, anchor, documented: true });
    }
  });

  test("promtool check config: docker-compose's prometheus.yml and infra/stack's rendered template, rules included", () => {
    // the compose file names the rules where its container mounts them
    const compose = read("infra/prometheus/prometheus.yml").replace("/etc/prometheus/rules", join(ROOT, RULES));
    expect(compose).not.toEqual(read("infra/prometheus/prometheus.yml"));
    writeFileSync(join(tmp, "compose.yml"), compose);
    const values: Record<string, string> = {
      PROMETHEUS_SCRAPE_INTERVAL: "5s",
      PROMETHEUS_SD_DIR: join(tmp, "targets"),
      PROMETHEUS_RULES_DIR: join(ROOT, RULES),
      PROMETHEUS_PORT: "9090",
    };
    const local = read("infra/prometheus/prometheus.local.yml.tmpl").replace(/@([A-Z_]+)@/g, (_, v: string) => values[v] ?? `@${v}@`);
    expect(local).not.toMatch(/@[A-Z_]+@/);
    writeFileSync(join(tmp, "local.yml"), local);
    for (const f of ["compose.yml", "local.yml"]) {
      const r = promtool("check", "config", join(tmp, f));
      expect({ f, code: r.code, out: r.out }).toEqual({ f, code: 0, out: expect.stringContaining(`${ruleFiles.length} rule files found`) });
    }
  });
});
