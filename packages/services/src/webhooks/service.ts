import { randomBytes } from "node:crypto";
import { invalid, notFound } from "@wf/core/errors";
import { isUuid, newId } from "@wf/core/ids";
import { type CursorCodec, PAGE_LIMIT, type Page, type PageRequest, startAfter, toPage } from "@wf/core/pagination";
import { type Delivery, toDelivery, toWebhook, validateWebhook, type Webhook, type WebhookInput } from "@wf/core/webhooks";
import type { EgressPolicy } from "@wf/platform/egress";
import type { Keyring } from "@wf/platform/secrets";
import { sealWebhookSecret } from "./secret-seal.ts";
import type { WebhookStore } from "./store.ts";

const SCOPE = "webhooks";
const deliveriesScope = (webhookId: string) => `webhook-deliveries:${webhookId}`;

/** The signing secret, in the form Standard Webhooks libraries take: `whsec_` and 32 random bytes in base64. */
const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

/**
 * Webhooks as the API sees them. Each belongs to the runs topic of the API that stores it (its
 * worker group delivers it; see WebhookDispatcher). Its url passes the egress policy of http steps
 * here and again at every delivery, where the address is pinned. Its signing secret is sealed
 * with the secrets' keyring before it is stored; only the workers' dispatcher opens it, to sign.
 */
export class WebhookService {
  constructor(
    private readonly store: WebhookStore,
    private readonly cursors: CursorCodec,
    private readonly egress: EgressPolicy,
    private readonly topic: string,
    private readonly keyring: Keyring,
  ) {}

  /** The new webhook with its secret, which no other answer shows. */
  async create(input: WebhookInput): Promise<Webhook & { secret: string }> {
    const checked = validateWebhook(input);
    if (checked.errors) throw invalid(checked.errors);
    const { spec } = checked;
    const refused = await this.egress.check(spec.url);
    if (refused) throw invalid([{ path: "/url", message: refused }]);
    const secret = newSecret();
    const id = newId();
    const row = await this.store.insert({
      id,
      url: spec.url.href,
      events: spec.events,
      workflowId: spec.workflow_id,
      secret: sealWebhookSecret(this.keyring, id, secret),
      topic: this.topic,
      now: new Date(),
    });
    if (!row) throw invalid([{ path: "/workflow_id", message: `no workflow ${spec.workflow_id}` }]);
    return { ...toWebhook(row), secret };
  }

  async get(id: string): Promise<Webhook> {
    const row = isUuid(id) ? await this.store.get(id) : undefined;
    if (!row) throw notFound("webhook", id);
    return toWebhook(row);
  }

  async list(req: PageRequest): Promise<Page<Webhook>> {
    const limit = req.limit ?? PAGE_LIMIT.default;
    const after = startAfter(this.cursors, req, SCOPE);
    return toPage(await this.store.list(limit, after), limit, this.cursors, SCOPE, toWebhook);
  }

  async remove(id: string): Promise<void> {
    if (!isUuid(id) || !(await this.store.delete(id))) throw notFound("webhook", id);
  }

  async deliveries(id: string, req: PageRequest): Promise<Page<Delivery>> {
    if (!isUuid(id)) throw notFound("webhook", id);
    const limit = req.limit ?? PAGE_LIMIT.default;
    const scope = deliveriesScope(id.toLowerCase());
    const after = startAfter(this.cursors, req, scope);
    const rows = await this.store.deliveries(id, limit, after);
    if (!rows) throw notFound("webhook", id);
    return toPage(rows, limit, this.cursors, scope, toDelivery);
  }
}
