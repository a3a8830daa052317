import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { apiScrapeTargets, removeScrapeTargets, writeScrapeTargets } from "./scrape-targets.ts";

const quiet = () => {
  const warned: string[] = [];
  return { warned, log: { warn: (msg: string) => void warned.push(msg) } };
};

describe("apiScrapeTargets", () => {
  test("one target per replica on its own metrics port, labelled with its index", () => {
    const { warned, log } = quiet();
    expect(apiScrapeTargets("127.0.0.1", 3000, 3, 9300, log)).toEqual([
      { address: "127.0.0.1:9300", labels: { replica: "0" } },
      { address: "127.0.0.1:9301", labels: { replica: "1" } },
      { address: "127.0.0.1:9302", labels: { replica: "2" } },
    ]);
    expect(warned).toEqual([]);
  });

  test("without a metrics port: the shared port, honest with one replica, warned about with more", () => {
    const one = quiet();
    expect(apiScrapeTargets("127.0.0.1", 3000, 1, 0, one.log)).toEqual([{ address: "127.0.0.1:3000", labels: { replica: "0" } }]);
    expect(one.warned).toEqual([]);
    const two = quiet();
    expect(apiScrapeTargets("127.0.0.1", 3000, 2, 0, two.log)).toEqual([{ address: "127.0.0.1:3000", labels: { replica: "any" } }]);
    expect(two.warned).toHaveLength(1);
  });
});

describe("writeScrapeTargets", () => {
  test("writes a file_sd JSON (one group per target) into a directory it creates, and removes it", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "wf-sd-")), "targets");
    try {
      const path = writeScrapeTargets(dir, "worker-9400", [
        { address: "127.0.0.1:9400", labels: { replica: "0", topic: "t" } },
        { address: "127.0.0.1:9401", labels: { replica: "1", topic: "t" } },
      ]);
      expect(path).toBe(join(dir, "worker-9400.json"));
      expect(JSON.parse(readFileSync(path, "utf8"))).toEqual([
        { targets: ["127.0.0.1:9400"], labels: { replica: "0", topic: "t" } },
        { targets: ["127.0.0.1:9401"], labels: { replica: "1", topic: "t" } },
      ]);
      // rewritten whole (a restart with another replica count), never appended to
      writeScrapeTargets(dir, "worker-9400", [{ address: "127.0.0.1:9400", labels: { replica: "0" } }]);
      expect(JSON.parse(readFileSync(path, "utf8"))).toHaveLength(1);
      removeScrapeTargets(path);
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });
});
