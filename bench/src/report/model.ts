/**
 * The report as blocks (see blocks.ts), one builder per section in sections/, composed here in
 * the order the report reads.
 */
import type { BenchResults } from "../results.ts";
import type { Block } from "./blocks.ts";
import { type ReportContext, reportContext } from "./context.ts";
import { auditSection } from "./sections/audit.ts";
import { baselineSection } from "./sections/baseline.ts";
import { cpuSection } from "./sections/cpu.ts";
import { endpointsSection } from "./sections/endpoints.ts";
import { errorsSection } from "./sections/errors.ts";
import { headlineSection } from "./sections/headline.ts";
import { introSection } from "./sections/intro.ts";
import { machineSection } from "./sections/machine.ts";
import { notesSection } from "./sections/notes.ts";
import { ohaSection } from "./sections/oha.ts";
import { referenceSection } from "./sections/reference.ts";
import { roundsSection } from "./sections/rounds.ts";
import { targetsSection } from "./sections/targets.ts";
import { tcpSection } from "./sections/tcp.ts";

const SECTIONS: Array<(ctx: ReportContext) => Block[]> = [
  introSection,
  headlineSection,
  baselineSection,
  targetsSection,
  cpuSection,
  tcpSection,
  referenceSection,
  roundsSection,
  endpointsSection,
  errorsSection,
  ohaSection,
  auditSection,
  machineSection,
  notesSection,
];

/** Builds the whole report. */
export function buildReport(results: BenchResults): Block[] {
  const ctx = reportContext(results);
  return SECTIONS.flatMap((section) => section(ctx));
}
