import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { client, must, type Run, type RunPage, type Schedule, type Workflow, type WorkflowPage } from "./api.ts";
import { GraphView, Json, Timeline } from "./components.ts";
import type { GraphStep } from "./graph.ts";
import { followRun, isFinished } from "./live.ts";

export const go = (hash: string) => {
  location.hash = hash;
};

/** Loads once per `deps`; shows the problem's detail when the call fails. */
function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: string; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data }),
      (e: Error) => live && setState({ error: e.message }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

const Problem = ({ error }: { error?: string }) => (error ? html`<p class="problem" role="alert">${error}</p>` : null);
const when = (v: string | null | undefined) => (v ? new Date(v).toLocaleString() : "");
const Status = ({ status }: { status: string }) => html`<span class=${`badge ${status}`}>${status}</span>`;

/** An ISO time as a datetime-local input shows it: in the browser's time zone, to the minute. */
const localInput = (iso: string) =>
  iso ? new Date(Date.parse(iso) - new Date(iso).getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : "";

const parseJson = (text: string): unknown => (text.trim() === "" ? undefined : JSON.parse(text));

const EXAMPLE = JSON.stringify(
  {
    name: "example",
    steps: [
      { name: "start", type: "transform", config: { output: { hello: "{{input.name}}" } } },
      { name: "wait", type: "delay", config: { ms: 500 } },
      { name: "log", type: "log", config: { message: "hello {{input.name}}" } },
    ],
  },
  null,
  2,
);

export function WorkflowsPage() {
  const list = useLoad<WorkflowPage>(() => must(client.api.v1.workflows.get({ query: { limit: 100 } })), []);
  const [definition, setDefinition] = useState(EXAMPLE);
  const [error, setError] = useState<string>();
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const body = parseJson(definition) as Parameters<typeof client.api.v1.workflows.post>[0];
      const wf = await must(client.api.v1.workflows.post(body));
      go(`#/workflows/${wf.id}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return html`<section>
    <h1>Workflows</h1>
    <${Problem} error=${list.error} />
    <table>
      <thead><tr><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Steps</th><th scope="col">Updated</th></tr></thead>
      <tbody>${list.data?.items.map(
        (w) =>
          html`<tr><td><a href=${`#/workflows/${w.id}`}>${w.name}</a></td><td>${w.version}</td><td>${w.steps.length}</td><td>${when(w.updated_at)}</td></tr>`,
      )}</tbody>
    </table>
    <h2>New workflow</h2>
    <form onSubmit=${create}>
      <label for="definition">Definition (JSON, as POST /api/v1/workflows takes it)</label>
      <textarea id="definition" rows="14" value=${definition} onInput=${(e: Event) => setDefinition((e.target as HTMLTextAreaElement).value)} />
      <${Problem} error=${error} />
      <button type="submit">Create</button>
    </form>
  </section>`;
}

export function WorkflowView({ id }: { id: string }) {
  const wf = useLoad<Workflow>(() => must(client.api.v1.workflows({ id }).get()), [id]);
  const [input, setInput] = useState("{}");
  const [error, setError] = useState<string>();
  const trigger = async (e: Event) => {
    e.preventDefault();
    try {
      const run = await must(client.api.v1.trigger.post({ workflow_id: id, input: parseJson(input) as TriggerBody["input"] }));
      go(`#/runs/${run.run_id}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const w = wf.data;
  return html`<section>
    <${Problem} error=${wf.error} />
    ${
      w &&
      html`<h1>${w.name} <small>v${w.version}</small></h1>
      ${w.description && html`<p>${w.description}</p>`}
      <${GraphView} steps=${w.steps as GraphStep[]} />
      <p><a href=${`#/runs?workflow_id=${w.id}`}>Runs of this workflow</a></p>
      <h2>Trigger</h2>
      <form onSubmit=${trigger}>
        <label for="input">Input (JSON)</label>
        <textarea id="input" rows="4" value=${input} onInput=${(e: Event) => setInput((e.target as HTMLTextAreaElement).value)} />
        <${Problem} error=${error} />
        <button type="submit">Trigger</button>
      </form>
      <details><summary>Definition</summary><${Json} value=${w.steps} /></details>`
    }
  </section>`;
}

type TriggerBody = Parameters<typeof client.api.v1.trigger.post>[0];
const STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const;
type RunQuery = NonNullable<Parameters<typeof client.api.v1.runs.get>[0]>["query"];

export function RunsPage({ params }: { params: URLSearchParams }) {
  const query: RunQuery = { limit: Number(params.get("limit") ?? 50) };
  for (const k of ["status", "workflow_id", "created_after", "created_before", "cursor"] as const) {
    const v = params.get(k);
    if (v) query[k] = v;
  }
  const key = params.toString();
  const page = useLoad<RunPage>(() => must(client.api.v1.runs.get({ query })), [key]);
  const [form, setForm] = useState({
    status: new Set((params.get("status") ?? "").split(",").filter(Boolean)),
    workflow_id: params.get("workflow_id") ?? "",
    created_after: params.get("created_after") ?? "",
    created_before: params.get("created_before") ?? "",
  });
  const search = (extra: Record<string, string> = {}) => {
    const p = new URLSearchParams();
    if (form.status.size > 0) p.set("status", STATUSES.filter((s) => form.status.has(s)).join(","));
    for (const k of ["workflow_id", "created_after", "created_before"] as const)
      if (form[k]) p.set(k, k === "workflow_id" ? form[k] : new Date(form[k]).toISOString());
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    go(`#/runs?${p}`);
  };
  const field = (k: "workflow_id" | "created_after" | "created_before") => (e: Event) =>
    setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  return html`<section>
    <h1>Runs</h1>
    <form class="filters" onSubmit=${(e: Event) => {
      e.preventDefault();
      search();
    }}>
      <fieldset><legend>Status</legend>
        ${STATUSES.map(
          (s) =>
            html`<label><input type="checkbox" name="status" value=${s} checked=${form.status.has(s)} onChange=${() => {
              const next = new Set(form.status);
              next.has(s) ? next.delete(s) : next.add(s);
              setForm({ ...form, status: next });
            }} /> ${s}</label>`,
        )}
      </fieldset>
      <label>Workflow id <input name="workflow_id" value=${form.workflow_id} onInput=${field("workflow_id")} /></label>
      <label>Created after <input type="datetime-local" name="created_after" value=${localInput(form.created_after)} onInput=${field("created_after")} /></label>
      <label>Created before <input type="datetime-local" name="created_before" value=${localInput(form.created_before)} onInput=${field("created_before")} /></label>
      <button type="submit">Filter</button>
    </form>
    <${Problem} error=${page.error} />
    <table class="runs">
      <thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Workflow</th><th scope="col">Created</th><th scope="col">Finished</th></tr></thead>
      <tbody>${page.data?.items.map(
        (r) => html`<tr><td><a href=${`#/runs/${r.id}`}>${r.id}</a></td><td><${Status} status=${r.status} /></td>
          <td><a href=${`#/workflows/${r.workflow_id}`}>${r.workflow_id.slice(0, 8)}… v${r.workflow_version}</a></td><td>${when(r.created_at)}</td><td>${when(r.finished_at)}</td></tr>`,
      )}</tbody>
    </table>
    <nav class="pager" aria-label="pages">
      ${params.get("cursor") && html`<button type="button" onClick=${() => search()}>First page</button>`}
      ${
        page.data?.next_cursor &&
        html`<button type="button" onClick=${() => {
          const p = new URLSearchParams(params);
          p.set("cursor", page.data!.next_cursor!);
          go(`#/runs?${p}`);
        }}>Next page</button>`
      }
    </nav>
  </section>`;
}

export function RunView({ id }: { id: string }) {
  const [run, setRun] = useState<Run>();
  const [error, setError] = useState<string>();
  const [steps, setSteps] = useState<GraphStep[]>();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    setRun(undefined);
    return followRun(
      id,
      (r) => {
        setRun(r);
        setNow(Date.now());
      },
      (e) => setError(e.message),
    );
  }, [id]);
  const version = run ? `${run.workflow_id}/${run.workflow_version}` : undefined;
  useEffect(() => {
    if (!run) return;
    // The run's pinned definition, for the graph's edges; without it, the steps in their order.
    must(client.api.v1.workflows({ id: run.workflow_id }).versions({ version: run.workflow_version }).get()).then(
      (v) => setSteps(v.steps as GraphStep[]),
      () => setSteps(run.steps.map((s) => ({ name: s.name }))),
    );
  }, [version]);
  if (!run) return html`<section><${Problem} error=${error} /><p>Loading…</p></section>`;
  return html`<section>
    <h1>Run <code>${run.id}</code> <${Status} status=${run.status} /></h1>
    <p>
      Workflow <a href=${`#/workflows/${run.workflow_id}`}>${run.workflow_id}</a>${` v${run.workflow_version}`}
      ${run.replay_of ? html`${", replay of "}<a href=${`#/runs/${run.replay_of}`}>${run.replay_of}</a>` : null}${`, created ${when(run.created_at)}`}
    </p>
    <${Problem} error=${error} />
    <${Actions} run=${run} onError=${setError} />
    ${steps && html`<h2>Graph</h2><${GraphView} steps=${steps} results=${run.steps} />`}
    <h2>Timeline</h2>
    <${Timeline} steps=${run.steps} now=${isFinished(run) ? Date.parse(run.finished_at ?? "") || now : Date.now()} />
    <h2>Input</h2><${Json} value=${run.input} />
    ${run.output !== null && run.output !== undefined && html`<h2>Output</h2><${Json} value=${run.output} />`}
    ${run.error && html`<h2>Error</h2><pre class="json error">${run.error}</pre>`}
    <h2>Steps</h2>
    <table>
      <thead><tr><th scope="col">Step</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Output or error</th></tr></thead>
      <tbody>${run.steps.map(
        (s) => html`<tr data-step=${s.name}><td>${s.name}</td><td><${Status} status=${s.status} /></td><td>${s.attempts}</td>
          <td>${s.error ? html`<pre class="json error">${s.error}</pre>` : s.output !== undefined ? html`<${Json} value=${s.output} />` : null}</td></tr>`,
      )}</tbody>
    </table>
  </section>`;
}

function Actions({ run, onError }: { run: Run; onError: (e: string) => void }) {
  const [fromStep, setFromStep] = useState("");
  const [signal, setSignal] = useState({ name: "", payload: "" });
  const act = (f: () => Promise<unknown>) => (e: Event) => {
    e.preventDefault();
    f().catch((err: Error) => onError(err.message));
  };
  const runApi = client.api.v1.runs({ id: run.id });
  return html`<div class="actions">
    ${
      !isFinished(run) &&
      html`<form onSubmit=${act(() => must(runApi.cancel.post()))}><button type="submit" class="danger">Cancel run</button></form>
      <form onSubmit=${act(() => must(runApi.signals({ name: signal.name }).post(parseJson(signal.payload) ?? null)))}>
        <label for="signal-name">Signal</label>
        <input id="signal-name" required value=${signal.name} onInput=${(e: Event) => setSignal({ ...signal, name: (e.target as HTMLInputElement).value })} />
        <label for="signal-payload">Payload (JSON)</label>
        <input id="signal-payload" value=${signal.payload} onInput=${(e: Event) => setSignal({ ...signal, payload: (e.target as HTMLInputElement).value })} />
        <button type="submit">Send signal</button>
      </form>`
    }
    ${
      isFinished(run) &&
      html`<form onSubmit=${act(async () => {
        const r = await must(runApi.replay.post(fromStep ? { from_step: fromStep } : {}));
        go(`#/runs/${r.run_id}`);
      })}>
      <label for="from-step">Replay from</label>
      <select id="from-step" value=${fromStep} onChange=${(e: Event) => setFromStep((e.target as HTMLSelectElement).value)}>
        <option value="">the steps that failed</option>
        ${run.steps.map((s) => html`<option value=${s.name}>${s.name}</option>`)}
      </select>
      <button type="submit">Replay</button>
    </form>`
    }
  </div>`;
}

export function SchedulesPage() {
  const list = useLoad(() => must(client.api.v1.schedules.get({ query: { limit: 100 } })), []);
  return html`<section>
    <h1>Schedules</h1>
    <${Problem} error=${list.error} />
    <table>
      <thead><tr><th scope="col">Workflow</th><th scope="col">Cron</th><th scope="col">Time zone</th><th scope="col">Enabled</th><th scope="col">Next run</th></tr></thead>
      <tbody>${list.data?.items.map(
        (s: Schedule) => html`<tr><td><a href=${`#/workflows/${s.workflow_id}`}>${s.workflow_id}</a></td><td><code>${s.cron}</code></td>
          <td>${s.timezone}</td><td>${s.enabled ? "yes" : "no"}</td><td>${when(s.next_run_at)}</td></tr>`,
      )}</tbody>
    </table>
  </section>`;
}
