import { type Client, createClient } from "@wf/client";

/** The bench's HTTP client of the API: create a workflow, trigger a run, follow it to its end. */

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** Through the typed client (@wf/client): a contract change that breaks the bench fails its type check. */
export class ApiClient {
  private readonly api: Client;

  constructor(readonly base: string) {
    this.api = createClient(base);
  }

  async createWorkflow(definition: Parameters<Client["api"]["v1"]["workflows"]["post"]>[0]): Promise<string> {
    const { data, error, status } = await this.api.api.v1.workflows.post(definition);
    if (status !== 201 || !data) throw new Error(`creating a workflow: ${status} ${JSON.stringify(error?.value)}`);
    return data.id;
  }

  /** The trigger's body as text, for oha. */
  triggerBody(workflowId: string, x = 1): string {
    return JSON.stringify({ workflow_id: workflowId, input: { x } });
  }

  async trigger(workflowId: string, x: number): Promise<string> {
    const { data, error, status } = await this.api.api.v1.trigger.post({ workflow_id: workflowId, input: { x } });
    if (status !== 202 || !data) throw new Error(`trigger: ${status} ${JSON.stringify(error?.value)}`);
    return data.run_id;
  }

  /** Reads the run until it is terminal; each read is a full request, which paces the polling. */
  async waitTerminal(runId: string, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const { data, error, status } = await this.api.api.v1.runs({ id: runId }).get();
      if (status !== 200 || !data) throw new Error(`reading run ${runId}: ${status} ${JSON.stringify(error?.value)}`);
      if (TERMINAL.has(data.status)) return data.status;
      if (performance.now() > deadline) return data.status;
    }
  }
}
