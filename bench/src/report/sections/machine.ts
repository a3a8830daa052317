/** The machine, the software's versions and the bench's settings. */
import { type Block, blockWriter } from "../blocks.ts";
import type { ReportContext } from "../context.ts";
import { int } from "../format.ts";

export function machineSection({ r }: ReportContext): Block[] {
  const w = blockWriter();
  w.h2("Machine, versions and configuration", "machine");
  w.p("Everything above ran on this machine.");
  w.table(
    ["Machine", "Value"],
    [
      ["Cores", int(r.machine.cores)],
      ["Memory", `${int(r.machine.memory_gib)} GiB`],
      ["CPU", r.machine.cpu_model],
      ["OS", r.machine.os],
      ["Kernel", r.machine.kernel],
      ["Started", r.started_at],
      ["Finished", r.finished_at],
      ...(r.commit ? [["Commit", `\`${r.commit}\``]] : []),
    ],
    ["l", "l"],
    { compact: true },
  );
  const kv = (title: string, o: Record<string, unknown>) => {
    const entries = Object.entries(o);
    if (entries.length === 0) return;
    w.table(
      [title, "Value"],
      entries.map(([k, v]) => [`\`${k}\``, typeof v === "number" ? v.toLocaleString("en-US") : String(v)]),
      ["l", "l"],
      { compact: true },
    );
  };
  kv("Software", r.versions);
  kv("Setting", r.config);
  return w.blocks;
}
