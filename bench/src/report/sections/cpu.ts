/** Where the CPU went during the flows: the API per request, each part of the machine, the budget, the warm-ups. */
import { type Block, blockWriter } from "../blocks.ts";
import { bar, barChart, COLOR } from "../charts.ts";
import type { ReportContext } from "../context.ts";
import { cpuFigures } from "../cpu-figures.ts";
import { anyRound, figureCells } from "../figures.ts";
import { TARGET_LABEL } from "../labels.ts";
import { cpuBudgetParagraphs } from "./cpu-budget.ts";
import { warmupParagraphs } from "./warmups.ts";

export function cpuSection({ r, present, figs }: ReportContext): Block[] {
  const w = blockWriter();
  const cpu = cpuFigures(r.flow);
  if (!anyRound(cpu[0]!)) return w.blocks;
  w.h2("Where the CPU went during the flows", "cpu");
  w.p(
    "CPU seconds used while each measured flow ran, from Linux's /proc, median of rounds: the API target (its supervisor and replicas), the workers, the flow runner, and the rest of the machine. " +
      "Everything shares these cores, so the flow's throughput depends on all of them. **API CPU per request** is the API's CPU over the flow's requests: " +
      "the one figure here where only the runtime and the HTTP framework differ. Of it, the part **in user space** is the runtime, the framework, the drivers and the domain code; " +
      "the part **in the kernel** is system time spent on the API's behalf (its sockets to the clients, PgBouncer, Redis and Kafka, on loopback). " +
      "The same figure is split another way by thread: each process's **main thread** runs its event loop (the JavaScript, the HTTP server, the drivers), " +
      "and the runtime's **helper threads** compile code, mark and sweep for the garbage collector and return memory to the system. " +
      "**Machine CPU per request** is the whole machine's: the four parts below over the flow's requests. Lower is better; a Bun/Node ratio below 1 favours Bun.",
  );
  w.table(
    ["During the flow", "Bun", "Node", "Bun/Node", "Ratio range"],
    cpu.map((f) => [f.unit === "s" ? `${f.metric} (CPU-s)` : `${f.metric} (${f.unit})`, ...figureCells(f)]),
  );
  w.blocks.push(...cpuBudgetParagraphs(cpu, figs[0]!.ratio), ...warmupParagraphs(r.warmups, r.flow));
  // The rows of "… of it" break a row above down: stacked with it, they would count twice.
  const parts = cpu.filter((f) => f.unit === "s" && !f.metric.startsWith("… "));
  const shades = [COLOR.bun, COLOR.node, COLOR.reference[0], COLOR.reference[1]];
  const chart = barChart(
    "cpu-share",
    "CPU seconds during the flow, median of rounds",
    present.map((t) => TARGET_LABEL[t]),
    parts.map((f, i) =>
      bar(
        f.metric,
        present.map((t) => (t === "bun" ? f.bunMedian : f.nodeMedian)),
        shades[i]!,
      ),
    ),
    "CPU-s",
  );
  const scales = chart.config.options!.scales as { x?: Record<string, unknown>; y: Record<string, unknown> };
  scales.x = { stacked: true };
  scales.y.stacked = true;
  w.charts([chart]);
  return w.blocks;
}
