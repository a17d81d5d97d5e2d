import { performance } from 'node:perf_hooks';
import {
  AgentdError,
  AgentRegistryToken,
  AnswersToken,
  ChannelRegistryToken,
  type Clock,
  HealthRegistryToken,
  HostInfoToken,
  HttpServerToken,
  IntakeGateToken,
  IntakeGuardToken,
  type Plugin,
  type PluginContext,
  SecretMaskerToken,
  SessionStoreToken,
  StateStoreToken,
  StoreToken,
  type TaskQueue,
  TaskQueueToken,
  type TaskStore,
  TaskStoreToken,
} from '@agentd/core';
import { SchedulerToken } from '@agentd/core/scheduler';
import { enqueueManyInto } from '@agentd/core/store';
import { mountApi } from './api.js';
import { EnqueueBatcher } from './batch.js';
import { mountConversations } from './conversations.js';
import { reportingDeliveries } from './delivery-events.js';
import {
  PROBE_PATHS,
  type ResolvedWebhookOptions,
  type WebhookOptions,
  webhookOptionsSchema,
} from './options.js';
import { createProbes, eventLoopCheck, httpCheck } from './probes.js';
import { AgentdHttpServer } from './server.js';
import { type WebhookDeps, webhookHandler } from './webhooks.js';

/**
 * The plugin's name in a host (what `agentd status` looks for in the config).
 *
 * @example
 * ```ts
 * const entry = resolved.plugins.find((p) => p.plugin.name === WEBHOOK_PLUGIN_NAME);
 * ```
 */
export const WEBHOOK_PLUGIN_NAME = 'webhook';

type Ctx = PluginContext<ResolvedWebhookOptions>;

const LOOPBACK = /^(127\.|::1$|localhost$|::ffff:127\.)/;

/**
 * The host's HTTP server: signed webhook routes whose deliveries become durable tasks (or bus
 * events), `/live`, `/ready`, `/health`, an optional bearer-token API under `/api/v1`, and the
 * {@link HttpServerToken} service on which other plugins mount their own routes.
 *
 * Secrets belong in the environment: write them as `${NAME}` placeholders, which the host
 * replaces before validating the options.
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { webhook } from '@agentd/plugin-webhook';
 *
 * export default defineConfig({
 *   plugins: [
 *     sqlite(),
 *     webhook({
 *       port: 8787,
 *       api: { token: '${AGENTD_API_TOKEN}' },
 *       routes: [
 *         {
 *           name: 'github',
 *           path: '/hooks/github',
 *           verify: { scheme: 'github', secret: '${GITHUB_WEBHOOK_SECRET}' },
 *           events: ['issues'],
 *           task: { agent: 'triage', priority: 'high', input: 'Triage: {{ payload.issue.title }}' },
 *         },
 *       ],
 *     }),
 *   ],
 * });
 * ```
 */
export function webhook(options: WebhookOptions = {}): Plugin<ResolvedWebhookOptions> {
  let server: AgentdHttpServer | undefined;
  let disposeLoop: (() => void) | undefined;
  // Filled in start(): every plugin has registered by then, so what exists is known, and each
  // request then reads a field instead of asking the container.
  const services: { optional?: OptionalServices } = {};

  return {
    name: WEBHOOK_PLUGIN_NAME,
    provides: [HttpServerToken],
    optionsSchema: webhookOptionsSchema,
    options,

    register(ctx) {
      const o = ctx.options;
      const http = new AgentdHttpServer(
        {
          host: o.host,
          port: o.port,
          bodyLimitBytes: o.bodyLimitBytes,
          headersTimeoutMs: o.headersTimeoutMs,
          requestTimeoutMs: o.requestTimeoutMs,
          keepAliveTimeoutMs: o.keepAliveTimeoutMs,
          maxConnections: o.maxConnections,
          apiToken: o.api?.token,
          mask: maskerOf(ctx),
          // For metrics: a timer and one event per request, microseconds against a request's cost,
          // and nothing at all while no one listens (a host without metrics()).
          observe: (request) => ctx.events.emit('http.request', request),
          observed: () => ctx.events.listenerCount('http.request') > 0,
        },
        ctx.logger,
      );
      server = http;
      ctx.provide(HttpServerToken, http);

      const gate = ctx.resolve(IntakeGateToken);
      const health = ctx.resolve(HealthRegistryToken);
      const info = ctx.resolve(HostInfoToken);
      const probes = createProbes({
        gate,
        server: http,
        health,
        info,
        cacheMs: o.healthCacheMs,
        now: () => ctx.clock.now(),
      });
      const [live, ready, healthPath] = PROBE_PATHS;
      http.route({ method: 'GET', path: live, duringDrain: true, handler: probes.live });
      http.route({ method: 'GET', path: ready, duringDrain: true, handler: probes.ready });
      http.route({
        method: 'GET',
        path: healthPath,
        duringDrain: true,
        auth: o.healthAuth,
        handler: probes.health,
      });

      if (o.api) {
        mountApi(http, {
          server: http,
          info,
          gate,
          clock: ctx.clock,
          health: probes.report,
          store: () => services.optional?.store,
          tasks: () => services.optional?.tasks,
          queue: () => services.optional?.queue,
          sessions: () => services.optional?.sessions,
          scheduler: () => services.optional?.scheduler,
          guard: ctx.resolve(IntakeGuardToken),
          events: ctx.events,
          channels: ctx.resolve(ChannelRegistryToken),
        });
        mountConversations(ctx, http, {
          tasks: () => services.optional?.tasks,
          state: () => services.optional?.state,
          answers: () => services.optional?.answers,
        });
      }

      const batcher = new EnqueueBatcher(() => services.optional?.queue);
      const deps: WebhookDeps = {
        queue: () => services.optional?.queue,
        enqueue: (task) => batcher.enqueue(task),
        state: () => services.optional?.state,
        gate,
        events: ctx.events,
        clock: ctx.clock,
        logger: ctx.logger,
        eventDedupeMs: o.eventDedupeMs,
      };
      for (const route of o.routes) {
        http.route({
          method: 'POST',
          path: route.path,
          bodyLimitBytes: route.bodyLimitBytes,
          handler: reportingDeliveries(webhookHandler(route, deps), (status) => {
            // Told only when someone listens (metrics): no event object per delivery otherwise.
            if (ctx.events.listenerCount('webhook.delivery') > 0) {
              ctx.events.emit('webhook.delivery', { route: route.name, status });
            }
          }),
        });
      }

      health.add(httpCheck(http));
    },

    async start(ctx) {
      const optional = resolveOptional(ctx);
      services.optional = optional;
      checkRoutes(ctx, optional.queue !== undefined);
      // Sampling starts here, not in register: stop() runs only for plugins whose start ran.
      const loop = eventLoopCheck();
      disposeLoop = loop.dispose;
      ctx.resolve(HealthRegistryToken).add(loop.check);
      const address = await server!.listen();
      ctx.logger.info(
        { url: address.url, routes: ctx.options.routes.map((r) => r.path), api: !!ctx.options.api },
        `HTTP server listening on ${address.url}`,
      );
      if (!LOOPBACK.test(address.host)) {
        ctx.logger.warn(
          { host: address.host },
          'the HTTP server is reachable beyond this machine; put TLS (a reverse proxy) in front of it',
        );
      }
      // Stores and schedulers may add checks of their own in start(); add ours only where none did.
      ctx
        .resolve(IntakeGateToken)
        .whenOpen()
        .then(
          () => addFallbackChecks(ctx, optional),
          () => {},
        );
    },

    drain: (_ctx, signal) => server?.drain(signal),

    async stop() {
      disposeLoop?.();
      await server?.close();
    },
  };
}

/** Services that exist only with a store (or a scheduler plugin). */
type OptionalServices = ReturnType<typeof resolveOptional>;

function resolveOptional(ctx: Ctx) {
  const tasks = ctx.tryResolve(TaskStoreToken);
  return {
    store: ctx.tryResolve(StoreToken),
    tasks,
    // A host with a store but `runner: false` (an ingress-only host writing to a store that
    // workers elsewhere share) has no queue: write to the store directly then.
    queue: ctx.tryResolve(TaskQueueToken) ?? (tasks ? storeQueue(tasks, ctx.clock) : undefined),
    sessions: ctx.tryResolve(SessionStoreToken),
    state: ctx.tryResolve(StateStoreToken),
    scheduler: ctx.tryResolve(SchedulerToken),
    answers: ctx.tryResolve(AnswersToken),
  };
}

function storeQueue(tasks: TaskStore, clock: Clock): TaskQueue {
  return {
    enqueue: (task) => tasks.enqueue(task, clock.now()),
    enqueueMany: (list) => enqueueManyInto(tasks, list, clock.now()),
    cancel: (id) => tasks.cancel(id, clock.now()),
    hold: (id) => tasks.hold(id),
    release: (id) => tasks.release(id),
  };
}

/** A route naming an agent the host lacks would fail every delivery: refuse to start instead. */
function checkRoutes(ctx: Ctx, hasQueue: boolean): void {
  const taskRoutes = ctx.options.routes.filter((r) => !r.emit);
  if (taskRoutes.length === 0) return;
  if (!hasQueue) {
    ctx.logger.warn(
      { routes: taskRoutes.map((r) => r.name) },
      'webhook routes create tasks, but this host has no task store: they will answer 503 (add a store plugin, e.g. sqlite())',
    );
    return;
  }
  const agents = ctx.resolve(AgentRegistryToken);
  for (const route of taskRoutes) {
    const agent = route.task?.agent ?? agents.defaultAgent;
    if (agent === undefined) {
      throw new AgentdError(
        'E_WEBHOOK_AGENT',
        `webhook route "${route.name}" names no agent and the host has no default agent`,
      );
    }
    if (!agents.get(agent)) {
      const known = agents.list().map((a) => a.name);
      throw new AgentdError(
        'E_WEBHOOK_AGENT',
        `webhook route "${route.name}": "${agent}" is not an agent of this host (known: ${known.join(', ') || 'none'})`,
      );
    }
  }
}

function addFallbackChecks(ctx: Ctx, optional: OptionalServices): void {
  const health = ctx.resolve(HealthRegistryToken);
  const tryAdd = (check: Parameters<typeof health.add>[0]) => {
    try {
      health.add(check);
    } catch {
      // The owning plugin registered a check under this name: theirs knows better.
    }
  };
  const { tasks, scheduler } = optional;
  if (tasks) {
    tryAdd({
      name: 'store',
      check: async () => {
        const t0 = performance.now();
        // An indexed lookup that finds nothing: proves the store answers, costs microseconds.
        await tasks.findByIdempotencyKey('agentd:health-probe');
        const ms = performance.now() - t0;
        return {
          status: ms > 500 ? 'warn' : 'pass',
          ...(ms > 500 ? { output: 'the store is slow to answer' } : {}),
          observedValue: Math.round(ms * 100) / 100,
          observedUnit: 'ms',
        };
      },
    });
  }
  if (scheduler) {
    tryAdd({
      name: 'scheduler',
      check: async () => ({
        status: 'pass',
        observedValue: (await scheduler.list()).length,
        observedUnit: 'schedules',
      }),
    });
  }
}

/** The host's secret masker as a function (hosts of older cores have none: nothing to mask by value). */
function maskerOf(ctx: PluginContext): ((text: string) => string) | undefined {
  const masker = ctx.tryResolve(SecretMaskerToken);
  return masker ? (text) => masker.mask(text) : undefined;
}
