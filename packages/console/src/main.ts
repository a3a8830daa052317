import "./style.css";
import { html } from "htm/preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { KeyBar } from "./components.ts";
import { RunsPage, RunView, SchedulesPage, WorkflowsPage, WorkflowView } from "./pages.ts";

// Routes live in the hash, so the API serves one page (/ui) and nothing else.
const parse = () => {
  const [path = "", search = ""] = location.hash.replace(/^#/, "").split("?");
  return { parts: path.split("/").filter(Boolean), params: new URLSearchParams(search) };
};

function App() {
  const [route, setRoute] = useState(parse());
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const [section, id] = route.parts;
  const page =
    section === "workflows" && id
      ? html`<${WorkflowView} id=${id} />`
      : section === "runs" && id
        ? html`<${RunView} id=${id} />`
        : section === "runs"
          ? html`<${RunsPage} params=${route.params} />`
          : section === "schedules"
            ? html`<${SchedulesPage} />`
            : html`<${WorkflowsPage} />`;
  const current = section ?? "workflows";
  const link = (to: string, label: string) => html`<a href=${`#/${to}`} aria-current=${current === to ? "page" : undefined}>${label}</a>`;
  return html`<header>
      <span class="brand">workflow-service</span>
      <nav aria-label="sections">${link("workflows", "Workflows")} ${link("runs", "Runs")} ${link("schedules", "Schedules")}</nav>
      <${KeyBar} onChange=${() => setGeneration((g) => g + 1)} />
    </header>
    <main key=${`${location.hash}:${generation}`}>${page}</main>`;
}

render(html`<${App} />`, document.getElementById("app")!);
