import { describe, expect, test } from "bun:test";
import { type CpuMark, cpuBetween, cpuMark, machineBusySeconds, treeCpu, treeCpuSeconds, treeHelperThreadsSeconds } from "./cpu.ts";

/**
 * A shell whose child spins until it has used `ms` of CPU (not of wall time: on a busy machine it
 * gets less than a core), then the shell waits: the spin belongs to the shell's tree.
 */
function spinningTree(ms: number) {
  // Spins in 5 ms slices of the clock (user time, no system call), asking for its CPU time between them.
  const spin = `const t = process.cpuUsage(); for (let u = process.cpuUsage(t); u.user + u.system < ${ms * 1000}; u = process.cpuUsage(t)) { const e = Date.now() + 5; while (Date.now() < e) {} }`;
  return Bun.spawn(["sh", "-c", `"${process.execPath}" -e '${spin}'; sleep 30`], {
    stdout: "ignore",
    stderr: "ignore",
  });
}

/** Waits (10 s at most) until the tree of `pid` has used `seconds` of CPU; what it has used then. */
async function untilTreeUsed(pid: number, seconds: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (treeCpuSeconds(pid) < seconds && Date.now() < deadline) await Bun.sleep(50);
  return treeCpuSeconds(pid);
}

describe("CPU time from /proc", () => {
  test("a process tree's time includes a child that has exited and been reaped", async () => {
    const tree = spinningTree(600);
    try {
      // The child's time moves into the shell's cutime when the shell reaps it.
      expect(await untilTreeUsed(tree.pid, 0.35)).toBeGreaterThanOrEqual(0.35);
      expect(treeCpuSeconds(tree.pid)).toBeLessThan(5);
    } finally {
      tree.kill("SIGKILL");
      await tree.exited;
    }
  });

  test("only the given tree is counted, not a sibling's", async () => {
    const spinning = spinningTree(600);
    const idle = Bun.spawn(["sleep", "30"]);
    try {
      expect(await untilTreeUsed(spinning.pid, 0.35)).toBeGreaterThanOrEqual(0.35);
      expect(treeCpuSeconds(idle.pid)).toBeLessThan(0.05);
    } finally {
      for (const p of [spinning, idle]) p.kill("SIGKILL");
      await Promise.all([spinning.exited, idle.exited]);
    }
  });

  test("a tree's time is split between user space and the kernel", async () => {
    // Spinning is user time; reading /dev/zero is the kernel clearing pages it copies out. The two
    // share the cores, so the spin lasts well beyond the time waited for; dd runs until killed (a
    // count it could finish would leave no process to read).
    const spin = spinningTree(1000);
    const syscalls = Bun.spawn(["dd", "if=/dev/zero", "of=/dev/null", "bs=4M"], { stdout: "ignore", stderr: "ignore" });
    try {
      await untilTreeUsed(spin.pid, 0.35);
      await untilTreeUsed(syscalls.pid, 0.35);
      const s = treeCpu(spin.pid);
      expect(s.user).toBeGreaterThanOrEqual(0.3);
      expect(s.system).toBeLessThan(s.user / 4);
      const k = treeCpu(syscalls.pid);
      expect(k.system).toBeGreaterThanOrEqual(0.3);
      expect(k.user).toBeLessThan(k.system / 4);
    } finally {
      for (const p of [spin, syscalls]) p.kill("SIGKILL");
      await Promise.all([spin.exited, syscalls.exited]);
    }
  });

  test("a tree's time on threads other than the main ones is the helpers' part", async () => {
    // One process spins on a worker thread while its main thread waits; the other spins on its main thread.
    const spin = "const t = Date.now(); while (Date.now() - t < 1000) {}";
    const onWorker = Bun.spawn(
      [process.execPath, "-e", `new Worker(URL.createObjectURL(new Blob([${JSON.stringify(spin)}]))); setTimeout(() => {}, 30000)`],
      { stdout: "ignore", stderr: "ignore" },
    );
    const onMain = Bun.spawn([process.execPath, "-e", `${spin}; setTimeout(() => {}, 30000)`], { stdout: "ignore", stderr: "ignore" });
    try {
      await untilTreeUsed(onWorker.pid, 0.35);
      await untilTreeUsed(onMain.pid, 0.35);
      const helpers = treeHelperThreadsSeconds(onWorker.pid);
      expect(helpers).toBeGreaterThanOrEqual(0.3);
      expect(helpers).toBeGreaterThan(treeCpuSeconds(onWorker.pid) * 0.75);
      expect(treeHelperThreadsSeconds(onMain.pid)).toBeLessThan(treeCpuSeconds(onMain.pid) / 4);
    } finally {
      for (const p of [onWorker, onMain]) p.kill("SIGKILL");
      await Promise.all([onWorker.exited, onMain.exited]);
    }
  });

  test("a pid that does not exist has used nothing", () => {
    expect(treeHelperThreadsSeconds(2 ** 22 + 7)).toBe(0);
    expect(treeCpuSeconds(2 ** 22 + 7)).toBe(0);
  });

  test("the machine's busy time grows while something spins", async () => {
    const before = machineBusySeconds();
    const t = Date.now();
    while (Date.now() - t < 300) {}
    expect(machineBusySeconds() - before).toBeGreaterThanOrEqual(0.25);
  });

  test("cpuBetween shares a window between API, workers, runner and the rest", () => {
    const a: CpuMark = { at: 1000, api: 10, apiKernel: 4, apiHelpers: 1, workers: 5, machine: 100, stack: {} };
    const b: CpuMark = { at: 7000, api: 16, apiKernel: 6.1, apiHelpers: 1.7, workers: 6.5, machine: 111, stack: {} };
    expect(cpuBetween(a, b, 2.5, 2, 70_000)).toEqual({
      window_s: 6,
      machine_busy_pct: 92,
      api_s: 6,
      workers_s: 1.5,
      runner_s: 2.5,
      rest_s: 1,
      api_us_per_request: 86,
      api_kernel_us_per_request: 30,
      api_helper_threads_us_per_request: 10,
    });
  });

  test("cpuBetween gives each stack service's part of the rest, for services marked at both ends", () => {
    const a: CpuMark = { at: 0, api: 0, apiKernel: 0, apiHelpers: 0, workers: 0, machine: 0, stack: { postgres: 40, redis: 3, kafka: 7 } };
    const b: CpuMark = {
      at: 5000,
      api: 4,
      apiKernel: 1,
      apiHelpers: 0.5,
      workers: 1,
      machine: 9,
      stack: { postgres: 40.9, redis: 3.2, pgbouncer: 0.4 },
    };
    // PgBouncer was not marked before (found since), Kafka not after (restarted): neither has a figure.
    expect(cpuBetween(a, b, 2, 2, 10_000).stack_s).toEqual({ postgres: 0.9, redis: 0.2 });
    expect(cpuBetween(a, { ...b, stack: {} }, 2, 2, 10_000)).not.toHaveProperty("stack_s");
  });

  test("cpuMark reads a stack service's process tree, and nothing for a pid that is gone", async () => {
    const service = spinningTree(600);
    try {
      await untilTreeUsed(service.pid, 0.35);
      const m = cpuMark(process.pid, process.pid, { postgres: service.pid, redis: 2 ** 22 + 7 });
      expect(m.stack.postgres).toBeGreaterThanOrEqual(0.35);
      expect(m.stack).not.toHaveProperty("redis");
    } finally {
      service.kill("SIGKILL");
      await service.exited;
    }
  });
});
