/** The bench's HTTP client of the API: create a workflow, trigger a run, follow it to its end. */

const JSON_HEADERS = { "content-type": "application/json" };
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export class ApiClient {
  constructor(readonly base: string) {}

  async createWorkflow(definition: object): Promise<string> {
    const res = await fetch(`${this.base}/api/v1/workflows`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(definition) });
    if (res.status !== 201) throw new Error(`creating a workflow: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  }

  triggerBody(workflowId: string, x = 1): string {
    return JSON.stringify({ workflow_id: workflowId, input: { x } });
  }

  async trigger(workflowId: string, x: number): Promise<string> {
    const res = await fetch(`${this.base}/api/v1/trigger`, {
      method: "POST",
      headers: JSON_HEADERS,
      body: this.triggerBody(workflowId, x),
    });
    if (res.status !== 202) throw new Error(`trigger: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { run_id: string }).run_id;
  }

  /** Reads the run until it is terminal; each read is a full request, which paces the polling. */
  async waitTerminal(runId: string, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const res = await fetch(`${this.base}/api/v1/runs/${runId}`);
      if (res.status !== 200) throw new Error(`reading run ${runId}: ${res.status} ${await res.text()}`);
      const { status } = (await res.json()) as { status: string };
      if (TERMINAL.has(status)) return status;
      if (performance.now() > deadline) return status;
    }
  }
}
