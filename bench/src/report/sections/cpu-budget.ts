/** Two paragraphs of the CPU section: what the flow-ratio target asks of the Bun API, as arithmetic on its figures. */
import { type Block, blockWriter } from "../blocks.ts";
import { ratioBudget } from "../cpu-figures.ts";
import type { Figure } from "../figures.ts";
import { int, ratio } from "../format.ts";

export function cpuBudgetParagraphs(cpu: Figure[], measuredRatio: number): Block[] {
  const w = blockWriter();
  const budget = ratioBudget(cpu, measuredRatio);
  if (!budget) return w.blocks;
  const us = (v: number) => `${int(v)} µs`;
  const allowed =
    budget.bunApiAllowedUs > 0
      ? `the Bun API could use at most **${us(budget.bunApiAllowedUs)}** per request, against the ${us(budget.bunApiUs)} it used`
      : `the work outside the API alone exceeds that, so no API could reach it on this machine`;
  w.p(
    `**What ${ratio(budget.target)} asks of the API.** Arithmetic on the medians above, not a measurement. Per flow request the machine spent ${us(budget.bunMachineUs)} of CPU under Bun and ${us(budget.nodeMachineUs)} under Node; ` +
      `were the flow's throughput set by CPU alone, Bun/Node would be ${ratio(budget.cpuRatio)} (measured: ${ratio(budget.measuredRatio)}). ` +
      `Of Bun's ${us(budget.bunMachineUs)}, ${us(budget.bunOutsideUs)} went outside the API (${us(budget.nodeOutsideUs)} under Node): the workers, the flow runner, the stack and the kernel's own threads. ` +
      `For ${ratio(budget.target)} the machine could spend at most ${us(budget.nodeMachineUs / budget.target)} per request under Bun; with everything outside the API costing what it did, ${allowed}. A Bun API that cost nothing would give at most ${ratio(budget.ceiling)}.`,
  );
  w.p(
    `**The bound set by the API alone.** Were the workers, the flow runner and the stack on other machines, a flow bound by CPU would give Bun/Node = Node's API CPU per request over Bun's: ` +
      `${us(budget.nodeApiUs)} / ${us(budget.bunApiUs)} = ${ratio(budget.apiBound)}. ` +
      (budget.apiBound >= budget.target
        ? `That clears ${ratio(budget.target)}: what the flow's ratio falls short of it, it loses to the work outside the API, which both targets share on this machine.`
        : `Wherever the rest runs, a flow bound by CPU reaches ${ratio(budget.target)} only if the Bun API uses at most ${ratio(1 / budget.target)} Node's CPU per request: ${us(budget.nodeApiUs / budget.target)} here, against the ${us(budget.bunApiUs)} it used.`),
  );
  return w.blocks;
}
