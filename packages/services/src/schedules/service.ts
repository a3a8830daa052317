import { invalid, notFound } from "@wf/core/errors";
import { isUuid, newId } from "@wf/core/ids";
import { type CursorCodec, PAGE_LIMIT, type Page, type PageRequest, startAfter, toPage } from "@wf/core/pagination";
import type { TriggerLimits } from "@wf/core/runs";
import { type Schedule, type ScheduleInput, type ScheduleSpec, toSchedule, validateSchedule } from "@wf/core/schedules";
import type { ScheduleStore } from "./store.ts";

const SCOPE = "schedules";

const noWorkflow = (id: string) => invalid([{ path: "/workflow_id", message: `no workflow ${id}` }]);

/**
 * Schedules as the API sees them: validated, stored with their next tick, listed. The workers'
 * tickers start their runs (see ScheduleTicker); nothing here starts one. A schedule belongs to
 * the runs topic of the API that stores it: its runs go there, to that topic's worker group.
 */
export class ScheduleService {
  constructor(
    private readonly store: ScheduleStore,
    private readonly cursors: CursorCodec,
    private readonly limits: TriggerLimits,
    private readonly topic: string,
  ) {}

  private check(input: ScheduleInput, now: Date): ScheduleSpec {
    const checked = validateSchedule(input, this.limits, now);
    if (checked.errors) throw invalid(checked.errors);
    return checked.spec;
  }

  /** A schedule for an unknown workflow is a 422 at /workflow_id, as a workflow step's is. */
  async create(input: ScheduleInput): Promise<Schedule> {
    const now = new Date();
    const spec = this.check(input, now);
    const row = await this.store.insert(newId(), spec, this.topic, now);
    if (!row) throw noWorkflow(spec.workflow_id);
    return toSchedule(row);
  }

  async get(id: string): Promise<Schedule> {
    const row = isUuid(id) ? await this.store.get(id) : undefined;
    if (!row) throw notFound("schedule", id);
    return toSchedule(row);
  }

  async list(req: PageRequest): Promise<Page<Schedule>> {
    const limit = req.limit ?? PAGE_LIMIT.default;
    const after = startAfter(this.cursors, req, SCOPE);
    return toPage(await this.store.list(limit, after), limit, this.cursors, SCOPE, toSchedule);
  }

  /** Replaces the whole definition (absent fields take their defaults, as on create). */
  async replace(id: string, input: ScheduleInput): Promise<Schedule> {
    const now = new Date();
    const spec = this.check(input, now);
    if (!isUuid(id)) throw notFound("schedule", id);
    const r = await this.store.replace(id, spec, now);
    if (!r.found) throw notFound("schedule", id);
    if (!r.row) throw noWorkflow(spec.workflow_id);
    return toSchedule(r.row);
  }

  /** Deletes the schedule: no tick starts anything any more; the runs it started stay, with their schedule_id. */
  async remove(id: string): Promise<void> {
    if (!isUuid(id) || !(await this.store.delete(id))) throw notFound("schedule", id);
  }
}
