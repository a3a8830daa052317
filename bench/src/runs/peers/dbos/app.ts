/**
 * The DBOS peer's application, run by Node.js (DBOS Transact is a library: the workflows run in
 * the application's own process, checkpointed in PostgreSQL). One workflow of three steps with
 * the functional API (`DBOS.registerWorkflow`, `DBOS.runStep`), started from a small HTTP server
 * in the same process. DBOS's configuration is its default apart from the name and the system
 * database URL.
 *
 *   node app.ts   (env: DBOS_SYSTEM_DATABASE_URL, PORT)
 */
import { DBOS } from "@dbos-inc/dbos-sdk";
import { closeServer, onTermination, serveRuns } from "../app-http.ts";
import { type LoggedLine, logLine, type RunInput, transformOne, transformTwo } from "../workload.ts";

const systemDatabaseUrl = process.env.DBOS_SYSTEM_DATABASE_URL;
const port = Number(process.env.PORT);
if (!systemDatabaseUrl || !port) throw new Error("DBOS_SYSTEM_DATABASE_URL and PORT are required");

DBOS.setConfig({ name: "peer-bench", systemDatabaseUrl });

async function threeSteps(input: RunInput): Promise<LoggedLine> {
  const one = await DBOS.runStep(async () => transformOne(input), { name: "transformOne" });
  const two = await DBOS.runStep(async () => transformTwo(one), { name: "transformTwo" });
  const runId = DBOS.workflowID ?? "?";
  return await DBOS.runStep(async () => logLine(runId, two), { name: "logLine" });
}

const workflow = DBOS.registerWorkflow(threeSteps, { name: "peerBench" });

await DBOS.launch();

const server = await serveRuns(port, async (input) => {
  // startWorkflow returns once the workflow's status row is written (the run is durably
  // accepted); the handle's result resolves once its output is recorded.
  const handle = await DBOS.startWorkflow(workflow)(input);
  return { id: handle.workflowID, done: handle.getResult() };
});

onTermination(async () => {
  await closeServer(server);
  console.log("http server closed");
  await DBOS.shutdown();
  console.log("DBOS shut down");
});
console.log(`dbos peer listening on 127.0.0.1:${port}`);
