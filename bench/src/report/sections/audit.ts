/** What the database said after each round: every accepted run terminal, rows matching, no duplicate key. */
import { type Block, blockWriter } from "../blocks.ts";
import type { ReportContext } from "../context.ts";
import { byRound } from "../figures.ts";
import { int, sec } from "../format.ts";
import { TARGET_LABEL } from "../labels.ts";

export function auditSection({ r }: ReportContext): Block[] {
  const w = blockWriter();
  w.h2("Audit: what the database says after each round", "audit");
  if (r.audit.length === 0) {
    w.p("No audit was run.");
    return w.blocks;
  }
  const passed = r.audit.filter((a) => a.passed).length;
  w.p(
    `After each round the database is checked: every run answered 202 must reach a terminal state within the deadline, the rows in PostgreSQL must match what the clients were told, and no idempotency key may have two runs. **${passed} of ${r.audit.length}** audits passed.`,
  );
  w.table(
    [
      "Target",
      "Round",
      "Result",
      "Runs accepted",
      "Terminal",
      "Not terminal",
      "Workflows created",
      "Workflows in DB",
      "Runs in DB",
      "Duplicate keys",
      "Deadline (s)",
    ],
    byRound(r.audit).map((a) => [
      TARGET_LABEL[a.target],
      int(a.round),
      a.passed ? "✅ passed" : "❌ failed",
      int(a.runs_accepted),
      int(a.runs_terminal),
      int(a.runs_not_terminal),
      int(a.workflows_created_ok),
      int(a.workflows_in_db),
      int(a.runs_in_db),
      int(a.duplicate_idempotency_keys),
      sec(a.deadline_s),
    ]),
    ["l", "r", "l", "r", "r", "r", "r", "r", "r", "r", "r"],
  );
  const problems = byRound(r.audit).flatMap((a) => a.problems.map((pr) => `${TARGET_LABEL[a.target]}, round ${a.round}: ${pr}`));
  if (problems.length) {
    w.h3("Problems found");
    w.list(problems);
  }
  return w.blocks;
}
