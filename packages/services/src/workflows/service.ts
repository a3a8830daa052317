import { invalid, notFound } from "@wf/core/errors";
import { isUuid, newId } from "@wf/core/ids";
import type { CursorCodec } from "@wf/core/pagination";
import {
  PAGE_LIMIT,
  type Page,
  type PageRequest,
  SingleFlight,
  startAfter,
  startAfterSequence,
  toPage,
  toSequencePage,
} from "@wf/core/pagination";
import {
  childWorkflows,
  type DefinitionLimits,
  parseVersion,
  secretReferences,
  toWorkflow,
  toWorkflowVersion,
  validateDefinition,
  type Workflow,
  type WorkflowDefinition,
  type WorkflowInput,
  type WorkflowRow,
  type WorkflowVersion,
} from "@wf/core/workflows";
import { type Cache, cacheKeys } from "@wf/platform/cache";
import { StatementBatcher } from "@wf/platform/sql";
import type { WorkflowStore } from "./store.ts";

const SCOPE = "workflows";

/** Workflows: validation, storage, and the read cache (written on create/replace, dropped on delete). */
export class WorkflowService {
  /** Identical list requests in flight at once share one query (see SingleFlight). */
  private readonly pages = new SingleFlight<Page<Workflow>>();
  /** Workflows created in one event-loop turn share one insert (see StatementBatcher). */
  private readonly inserts: StatementBatcher<WorkflowRow, undefined>;

  constructor(
    private readonly store: WorkflowStore,
    private readonly cache: Cache,
    private readonly cursors: CursorCodec,
    private readonly ttlS: number,
    private readonly limits: DefinitionLimits,
    /** Which secrets do not exist; absent, a definition that reads any secret is refused. */
    private readonly secrets?: { missing(names: string[]): Promise<Set<string>> },
  ) {
    this.inserts = new StatementBatcher(async (rows) => {
      await store.insertMany(rows);
      return rows.map(() => undefined);
    });
  }

  private async check(input: WorkflowInput): Promise<WorkflowDefinition> {
    const errors = validateDefinition(input, this.limits);
    if (errors.length > 0) throw invalid(errors);
    const def = input as WorkflowDefinition;
    await Promise.all([this.checkChildren(def), this.checkSecrets(def)]);
    return def;
  }

  /** The secrets that http steps read must exist now (a v1 definition reads none: no query). */
  private async checkSecrets(def: WorkflowDefinition): Promise<void> {
    const refs = secretReferences(def);
    if (refs.length === 0) return;
    const missing = this.secrets ? await this.secrets.missing(refs.map((r) => r.name)) : new Set(refs.map((r) => r.name));
    const unknown = refs.filter((r) => missing.has(r.name));
    if (unknown.length > 0) throw invalid(unknown.map((r) => ({ path: r.path, message: `no secret ${r.name}` })));
  }

  /** The workflows that `workflow` steps start must exist (a v1 definition has none: no query). */
  private async checkChildren(def: WorkflowDefinition): Promise<void> {
    const children = childWorkflows(def);
    if (children.length === 0) return;
    const found = await this.store.existing([...new Set(children.map((c) => c.workflowId))]);
    const missing = children.filter((c) => !found.has(c.workflowId));
    if (missing.length > 0) throw invalid(missing.map((c) => ({ path: c.path, message: `no workflow ${c.workflowId}` })));
  }

  private async remember(w: Workflow): Promise<Workflow> {
    await this.cache.set(cacheKeys.workflow(w.id), JSON.stringify(w), this.ttlS);
    return w;
  }

  async create(input: WorkflowInput): Promise<Workflow> {
    const def = await this.check(input);
    const now = new Date();
    const row: WorkflowRow = {
      id: newId(),
      name: def.name,
      description: def.description ?? null,
      steps: def.steps,
      concurrency: def.concurrency ?? null,
      timeout_ms: def.timeout_ms ?? null,
      version: 1,
      created_at: now,
      updated_at: now,
    };
    await this.inserts.submit(row);
    return this.remember(toWorkflow(row));
  }

  async get(id: string): Promise<Workflow> {
    if (!isUuid(id)) throw notFound("workflow", id);
    const w = await this.cache.readThrough(cacheKeys.workflow(id), this.ttlS, async () => {
      const row = await this.store.get(id);
      return row && toWorkflow(row);
    });
    if (!w) throw notFound("workflow", id);
    return w;
  }

  async list(req: PageRequest): Promise<Page<Workflow>> {
    const limit = req.limit ?? PAGE_LIMIT.default;
    const after = startAfter(this.cursors, req, SCOPE);
    return this.pages.run(`${limit}:${req.cursor ?? ""}`, async () =>
      toPage(await this.store.list(limit, after), limit, this.cursors, SCOPE, toWorkflow),
    );
  }

  async replace(id: string, input: WorkflowInput): Promise<Workflow> {
    const def = await this.check(input);
    if (!isUuid(id)) throw notFound("workflow", id);
    const row = await this.store.replace(id, def, new Date());
    if (!row) throw notFound("workflow", id);
    return this.remember(toWorkflow(row));
  }

  /** A workflow's versions, newest first. A cursor pages one workflow's versions only. */
  async versions(id: string, req: PageRequest): Promise<Page<WorkflowVersion>> {
    if (!isUuid(id)) throw notFound("workflow", id);
    const limit = req.limit ?? PAGE_LIMIT.default;
    const scope = `workflow-versions:${id}`;
    const before = startAfterSequence(this.cursors, req, scope);
    const rows = await this.store.listVersions(id, limit, before);
    if (!rows) throw notFound("workflow", id);
    return toSequencePage(rows, limit, this.cursors, scope, (r) => r.version, toWorkflowVersion);
  }

  /** One version; `version` as the path spells it, so that a malformed number is a 404 like a malformed id. */
  async version(id: string, version: string): Promise<WorkflowVersion> {
    if (!isUuid(id)) throw notFound("workflow", id);
    const n = parseVersion(version);
    // A malformed number still asks whether the workflow exists: the answer says which one is missing.
    const row = await this.store.getVersion(id, n ?? 0);
    if (row === undefined) throw notFound("workflow", id);
    if (row === null) throw notFound(`workflow ${id} version`, version);
    return toWorkflowVersion(row);
  }

  async remove(id: string): Promise<void> {
    if (!isUuid(id) || !(await this.store.delete(id))) throw notFound("workflow", id);
    await this.cache.forget(cacheKeys.workflow(id), this.ttlS);
  }
}
