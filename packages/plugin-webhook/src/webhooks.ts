import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  AgentdError,
  type Clock,
  type EnqueueResult,
  type EventBus,
  HttpError,
  type HttpRequest,
  type HttpResponse,
  type JsonValue,
  type Logger,
  type NewTask,
  type RouteHandler,
  type StateStore,
  type TaskQueue,
} from '@agentd/core';
import type { IntakeGate } from '@agentd/core/host';
import './events.js';
import type { WebhookRouteConfig } from './options.js';
import { parseJson, textOf } from './server.js';
import { compileTemplate, compileText, type TemplateContext, templateRoots } from './template.js';
import {
  standardWebhooksKey,
  type VerifyResult,
  verifyGithub,
  verifyHmac,
  verifyStandardWebhook,
} from './verify.js';

/** What webhook routes need from the host, resolved lazily (a store is optional). */
export interface WebhookDeps {
  queue: () => TaskQueue | undefined;
  /** Persists a task (group-committed with others arriving at the same time). */
  enqueue: (task: NewTask) => Promise<EnqueueResult>;
  state: () => StateStore | undefined;
  gate: IntakeGate;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  eventDedupeMs: number;
}

/** Every authentication failure looks the same from outside: no hint of what was wrong. */
export const WEBHOOK_UNAUTHORIZED_MESSAGE = 'invalid or missing signature';

type Verifier = (headers: IncomingHttpHeaders, body: Buffer, nowSeconds: number) => VerifyResult;

function secretList(secret: string | readonly string[]): readonly string[] {
  return typeof secret === 'string' ? [secret] : secret;
}

function makeVerifier(verify: WebhookRouteConfig['verify']): Verifier {
  switch (verify.scheme) {
    case 'standard': {
      const keys = secretList(verify.secret).map(standardWebhooksKey);
      return (h, body, now) => verifyStandardWebhook(h, body, keys, now, verify.toleranceSeconds);
    }
    case 'github': {
      const keys = secretList(verify.secret).map((s) => Buffer.from(s, 'utf8'));
      return (h, body) => verifyGithub(h, body, keys);
    }
    case 'hmac': {
      const keys = secretList(verify.secret).map((s) => Buffer.from(s, 'utf8'));
      return (h, body, now) => verifyHmac(h, body, keys, now, verify);
    }
  }
}

function eventName(route: WebhookRouteConfig, req: HttpRequest, payload: JsonValue): string | null {
  const v = route.verify;
  if (v.scheme === 'github') return req.header('x-github-event') ?? null;
  if (v.scheme === 'hmac') return v.eventHeader ? (req.header(v.eventHeader) ?? null) : null;
  // Standard Webhooks payloads carry their event type in the body: { type, timestamp, data }.
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    const type = payload.type;
    if (typeof type === 'string') return type;
  }
  return null;
}

/** Ids become part of a key in the store: keep them short and printable. */
function normaliseId(id: string): string {
  if (id.length <= 200 && /^[\x21-\x7e]+$/.test(id)) return id;
  return `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

/** The template context's headers when no template reads them. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * Builds the handler of one configured webhook route: verify the signature over the raw bytes
 * (401, the same answer for every failure), parse (400 for bad JSON), filter by event, then
 * persist the task with the idempotency key `webhook:<route>:<delivery id>` through the intake
 * gate and answer 202 `{ taskId, duplicate }` only once it is stored. A repeated delivery finds
 * the existing task, also after a restart, and is acknowledged without running twice.
 *
 * @example
 * ```ts
 * server.route({ method: 'POST', path: route.path, handler: webhookHandler(route, deps) });
 * ```
 */
export function webhookHandler(route: WebhookRouteConfig, deps: WebhookDeps): RouteHandler {
  const verify = makeVerifier(route.verify);
  const template = route.task ?? { priority: 2 as const, type: 'webhook' };
  const input = compileTemplate(template.input ?? '{{ payload }}');
  const description = template.description ? compileText(template.description) : undefined;
  const sessionKey = template.sessionKey ? compileText(template.sessionKey) : undefined;
  const readsHeaders = templateRoots([
    template.input,
    template.description,
    template.sessionKey,
  ]).has('headers');
  const seen = route.emit ? new SeenIds(deps.state, deps.eventDedupeMs, deps.clock) : undefined;
  const unauthorized = new HttpError(401, 'unauthorized', WEBHOOK_UNAUTHORIZED_MESSAGE);

  // Not an async function: a delivery is answered through one promise chain (the gate's, then
  // this), where async functions and their awaits cost three more promises per delivery.
  // Refusals are thrown synchronously; the server answers them the same way.
  return (req): HttpResponse | Promise<HttpResponse> => {
    const result = verify(req.headers, req.body, deps.clock.now() / 1000);
    if (!result.ok) {
      // The reason helps whoever configures the sender; it never includes the signature.
      deps.logger.debug({ route: route.name, reason: result.reason }, 'webhook signature refused');
      throw unauthorized;
    }
    const payload =
      route.format === 'json' ? parseJson(req.body, req.headers) : textOf(req.body, 0, req.headers);
    const event = eventName(route, req, payload);
    if (route.events && (event === null || !route.events.includes(event))) {
      return { status: 202, json: { ignored: true, event } };
    }
    const deliveryId = normaliseId(result.deliveryId);
    const key = `webhook:${route.name}:${deliveryId}`;

    if (seen) {
      return deps.gate
        .run(async () => {
          if (!(await seen.firstTime(key))) return true;
          deps.events.emit('webhook.received', {
            route: route.name,
            deliveryId,
            event,
            payload,
            receivedAt: deps.clock.now(),
          });
          return false;
        })
        .then((duplicate) => ({ status: 202, json: { duplicate } }));
    }

    if (!deps.queue()) {
      throw new HttpError(
        503,
        'no_store',
        'this host has no task store, so webhook deliveries cannot be persisted',
      );
    }
    const ctx: TemplateContext = {
      payload,
      // Flattened only for a template that reads them: most use the payload alone.
      headers: readsHeaders ? flatHeaders(req.headers) : NO_HEADERS,
      route: route.name,
      deliveryId,
      event,
    };
    const task: NewTask = {
      input: input(ctx),
      description:
        description?.(ctx) || `webhook ${route.name}${event ? ` ${event}` : ''} ${deliveryId}`,
      type: template.type,
      agent: template.agent,
      priority: template.priority,
      maxAttempts: template.maxAttempts,
      idempotencyKey: key,
      sessionKey: sessionKey?.(ctx) || undefined,
      metadata: { webhook: { route: route.name, deliveryId, event } },
      // Input and metadata were made for this task alone (the payload parsed from this
      // delivery's body, the rest rendered or built here) and nothing keeps them: the store
      // keeps them as the task's copy instead of parsing their JSON back.
      handedOver: true,
    };
    return deps.gate
      .run(() => deps.enqueue(task))
      .then(
        (stored) => ({ status: 202, json: { taskId: stored.task.id, duplicate: !stored.created } }),
        (error: unknown) => {
          throw enqueueError(error, route.name, deps.logger);
        },
      );
  };
}

function enqueueError(error: unknown, route: string, logger: Logger): unknown {
  if (
    !(error instanceof AgentdError) ||
    error.code === 'E_INTAKE_CLOSED' ||
    error.code === 'E_STORE_UNAVAILABLE' // 503 store_unavailable: the sender delivers again
  ) {
    return error;
  }
  if (error.code === 'E_INVALID_TASK' && /over the cap/.test(error.message)) {
    return new HttpError(413, 'payload_too_large', 'the payload is too large to store as a task');
  }
  if (error.code === 'E_INVALID_TASK') {
    // The sender's payload cannot be stored (e.g. a number too large for JSON, 1e999): retrying
    // cannot help, so a 4xx, not a 500 that senders retry forever. The store's message names the
    // field and never holds a secret.
    return new HttpError(400, 'bad_request', `the payload cannot be stored: ${error.message}`);
  }
  logger.error({ route, err: error }, `webhook route "${route}" could not enqueue its task`);
  return new HttpError(500, 'internal', 'the delivery could not be stored; retry later');
}

/**
 * Delivery ids of `emit` routes already handled. Events are not stored as tasks, so the ids are
 * kept in the StateStore with a TTL (surviving restarts), or in memory when there is no store.
 */
class SeenIds {
  readonly #memory = new Map<string, number>();
  static readonly MAX_IN_MEMORY = 10_000;

  constructor(
    private readonly state: () => StateStore | undefined,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  async firstTime(key: string): Promise<boolean> {
    const now = this.clock.now();
    const state = this.state();
    if (state) {
      if ((await state.get('webhook', key)) !== undefined) return false;
      await state.set('webhook', key, now, { ttlMs: this.ttlMs });
      return true;
    }
    const at = this.#memory.get(key);
    if (at !== undefined && now - at < this.ttlMs) return false;
    this.#memory.delete(key);
    this.#memory.set(key, now);
    if (this.#memory.size > SeenIds.MAX_IN_MEMORY) {
      // Maps iterate in insertion order: the first key is the oldest.
      this.#memory.delete(this.#memory.keys().next().value!);
    }
    return true;
  }
}
