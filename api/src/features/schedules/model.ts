import { Schedule, ScheduleInput, SchedulePage } from "@wf/contract/schedules";
import { Elysia } from "elysia";

/** The contract's schedule schemas, named for the routes and the OpenAPI document. */
export const scheduleModels = new Elysia({ name: "schedules.model" }).model({
  "schedule.input": ScheduleInput,
  schedule: Schedule,
  "schedule.page": SchedulePage,
});
