/** The run's notes: how it was run, and what its figures can and cannot say. */
import { type Block, blockWriter } from "../blocks.ts";
import type { ReportContext } from "../context.ts";

export function notesSection({ r }: ReportContext): Block[] {
  const w = blockWriter();
  if (r.notes.length) {
    w.h2("Notes", "notes");
    w.list(r.notes);
  }
  return w.blocks;
}
