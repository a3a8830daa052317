import {
  BulkResult,
  ReplayAccepted,
  ReplayInput,
  Run,
  RunEventStream,
  RunPage,
  SignalAccepted,
  TriggerAccepted,
  TriggerInput,
} from "@wf/contract/runs";
import { Elysia } from "elysia";

/** The contract's run schemas, named for the routes and the OpenAPI document. */
export const runModels = new Elysia({ name: "runs.model" }).model({
  "trigger.input": TriggerInput,
  "trigger.accepted": TriggerAccepted,
  run: Run,
  "run.page": RunPage,
  "run.events": RunEventStream,
  "signal.accepted": SignalAccepted,
  "replay.input": ReplayInput,
  "replay.accepted": ReplayAccepted,
  "bulk.result": BulkResult,
});
