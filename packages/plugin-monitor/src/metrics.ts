import {
  createToken,
  type HttpAddress,
  HttpServerToken,
  type Plugin,
  type PluginContext,
  type Task,
  type TaskStore,
  TaskStoreToken,
} from '@agentd/core';
import {
  collectDefaultMetrics,
  Gauge,
  type Metric,
  type MetricObject,
  type OpenMetricsContentType,
  Registry,
} from 'prom-client';
import { leanCounter, leanHistogram } from './lean-metrics.js';
import {
  type MetricsOptions,
  metricsOptionsSchema,
  type ResolvedMetricsOptions,
} from './metrics-options.js';
import { SystemMonitorToken } from './plugin.js';

/** The plugin's name in a host. */
export const METRICS_PLUGIN_NAME = 'metrics';

/** Every metric name starts with this, prom-client's process metrics included. */
export const METRICS_PREFIX = 'agentd_';

/**
 * What `metrics()` offers other plugins: the host's own prom-client registry (add your metrics
 * to it with `registers: [registry]`) and a scrape in either exposition format.
 *
 * @example
 * ```ts
 * import { Counter } from 'prom-client';
 *
 * const metrics = ctx.tryResolve(MetricsRegistryToken);
 * const backups = metrics && new Counter({
 *   name: 'agentd_backups_total',
 *   help: 'Backups taken.',
 *   registers: [metrics.registry],
 * });
 * ```
 */
export interface MetricsRegistry {
  /** This host's registry; never prom-client's global one, so hosts in one process stay apart. */
  readonly registry: Registry;
  /**
   * Every metric, in the Prometheus text format, or OpenMetrics when `accept` (an HTTP Accept
   * header) asks for `application/openmetrics-text`.
   */
  scrape(accept?: string): Promise<{ contentType: string; body: string }>;
}

/** The {@link MetricsRegistry} service, provided by `metrics()`. */
export const MetricsRegistryToken = createToken<MetricsRegistry>('agentd.metrics');

/**
 * Whether a scrape needs the API token: `auto` asks for it unless the server listens on a
 * loopback address only (127.0.0.0/8, ::1). An unknown address counts as exposed.
 *
 * @example
 * ```ts
 * metricsRouteAuth('auto', { host: '127.0.0.1', port: 8787, url: 'http://127.0.0.1:8787' }); // 'none'
 * metricsRouteAuth('auto', { host: '0.0.0.0', port: 8787, url: 'http://0.0.0.0:8787' }); // 'bearer'
 * ```
 */
export function metricsRouteAuth(
  auth: ResolvedMetricsOptions['auth'],
  address: Pick<HttpAddress, 'host'> | undefined,
): 'none' | 'bearer' {
  if (auth !== 'auto') return auth;
  return address !== undefined && isLoopback(address.host) ? 'none' : 'bearer';
}

function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' ||
    h === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(h) ||
    /^::ffff:127(\.\d{1,3}){3}$/.test(h)
  );
}

/** Distinct values a free-form label (task type, alert source) may take before `other`. */
const LABEL_VALUES_LIMIT = 50;

/**
 * Keeps a label's values bounded: the first `limit` distinct values pass, later ones read
 * `other`. Task types come from API callers, so they cannot be trusted to stay few.
 */
function bounded(limit = LABEL_VALUES_LIMIT): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= limit) return 'other';
    seen.add(value);
    return value;
  };
}

/** A finished attempt's agent: tasks always name one once enqueued through the queue. */
const agentOf = (task: Task) => task.agent ?? 'default';

/**
 * Prometheus metrics for the host, on prom-client: one registry per host, fed by the event bus
 * (task, message, alert, schedule, circuit and budget events; nothing is polled) and read from
 * the store and the system monitor only when scraped. Served at `GET /metrics` (Prometheus text,
 * or OpenMetrics when asked for) by the host's HTTP server (`webhook()`), open on loopback and
 * behind the API token beyond it; without an HTTP server the registry is still there for other
 * plugins, under {@link MetricsRegistryToken}.
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { webhook } from '@agentd/plugin-webhook';
 * import { metrics, monitor } from '@agentd/plugin-monitor';
 *
 * export default defineConfig({
 *   plugins: [sqlite(), webhook({ port: 8787 }), monitor(), metrics()],
 * });
 * ```
 */
export function metrics(options: MetricsOptions = {}): Plugin<ResolvedMetricsOptions> {
  const offs: (() => void)[] = [];
  /** The task store, once started (read on scrape, and for tasks lost with a lease). */
  const store: { tasks?: TaskStore } = {};
  return {
    name: METRICS_PLUGIN_NAME,
    // Optional partners: when the host has them, they are provided (register) and started
    // (start) before this plugin, so the store can be read and the server's address is known.
    after: [TaskStoreToken, SystemMonitorToken, HttpServerToken],
    provides: [MetricsRegistryToken],
    optionsSchema: metricsOptionsSchema,
    options,

    register(ctx) {
      const registry = new Registry();
      offs.push(...countEvents(ctx, registry, store));
      readOnScrape(ctx, registry, store);
      if (ctx.options.processMetrics) {
        collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
      }
      ctx.provide(MetricsRegistryToken, {
        registry,
        scrape: (accept) => scrape(registry, accept),
      });
      offs.push(() => {
        registry.clear();
        store.tasks = undefined;
      });
    },

    start(ctx) {
      // Resolved here: the store plugin (listed in `after`) has opened it by now.
      store.tasks = ctx.tryResolve(TaskStoreToken);
      const http = ctx.tryResolve(HttpServerToken);
      const service = ctx.resolve(MetricsRegistryToken);
      if (!http) {
        ctx.logger.info(
          'no HTTP server plugin (add webhook()): /metrics is not served; other plugins read the registry from MetricsRegistryToken',
        );
        return;
      }
      const auth = metricsRouteAuth(ctx.options.auth, http.address);
      offs.push(
        http.route({
          method: 'GET',
          path: ctx.options.path,
          auth,
          handler: async (request) => {
            const { contentType, body } = await service.scrape(request.header('accept'));
            return { headers: { 'content-type': contentType }, body };
          },
        }),
      );
      ctx.logger.info(
        { path: ctx.options.path, auth },
        `serving metrics at ${http.address?.url ?? ''}${ctx.options.path}${auth === 'bearer' ? ' (API token required)' : ''}`,
      );
    },

    stop() {
      for (const off of offs.splice(0).reverse()) off();
    },
  };
}

/** Counters and histograms fed by events; returns the unsubscribe functions. */
function countEvents(
  ctx: PluginContext<ResolvedMetricsOptions>,
  registry: Registry,
  store: { tasks?: TaskStore },
): (() => void)[] {
  const registers = [registry];
  const taskCounter = (name: string, help: string) =>
    leanCounter(registry, `${METRICS_PREFIX}tasks_${name}_total`, help, ['agent', 'type'] as const);
  const enqueued = taskCounter('enqueued', 'Tasks enqueued (created, not idempotent repeats).');
  const started = taskCounter('started', 'Task attempts started (a retry starts again).');
  const completed = taskCounter('completed', 'Tasks completed.');
  const failed = taskCounter('failed', 'Task attempts that failed, retried or not.');
  const retried = taskCounter('retried', 'Failed attempts whose task goes back to pending.');
  const dead = taskCounter(
    'dead',
    'Tasks that ended failed for good: attempts exhausted, or a lease expired on the last one.',
  );
  const cancelled = taskCounter('cancelled', 'Tasks cancelled.');
  const recovered = leanCounter(
    registry,
    `${METRICS_PREFIX}task_leases_recovered_total`,
    'Running tasks whose lease expired (a crash, a kill), by what became of them.',
    ['outcome'] as const,
  );
  const wait = leanHistogram(
    registry,
    `${METRICS_PREFIX}task_wait_seconds`,
    'Seconds from a task becoming runnable (enqueued, or its retry or run-at time) to its attempt starting.',
    ['agent'] as const,
    ctx.options.buckets.wait,
  );
  const run = leanHistogram(
    registry,
    `${METRICS_PREFIX}task_run_seconds`,
    'Seconds one task attempt ran, by how it ended.',
    ['agent', 'outcome'] as const,
    ctx.options.buckets.run,
  );
  const attempts = leanCounter(
    registry,
    `${METRICS_PREFIX}agent_attempts_total`,
    "Agent attempts recorded by failover, by agent and outcome (success or the error's class).",
    ['agent', 'outcome'] as const,
  );
  const circuit = new Gauge({
    name: `${METRICS_PREFIX}agent_circuit_state`,
    help: "1 for an agent's current circuit-breaker state, 0 for the others (agents whose circuit changed).",
    labelNames: ['agent', 'state'] as const,
    registers,
  });
  const messages = leanCounter(
    registry,
    `${METRICS_PREFIX}channel_messages_received_total`,
    'Messages received, by channel.',
    ['channel'] as const,
  );
  const alerts = leanCounter(
    registry,
    `${METRICS_PREFIX}alerts_total`,
    'Alerts raised, by severity and source.',
    ['severity', 'source'] as const,
  );
  const fires = leanCounter(
    registry,
    `${METRICS_PREFIX}schedule_fires_total`,
    'Schedule slots fired here, by schedule and whether late (catch-up after downtime).',
    ['schedule', 'late'] as const,
  );
  const missed = leanCounter(
    registry,
    `${METRICS_PREFIX}schedule_missed_slots_total`,
    'Schedule slots that did not fire, by schedule and reason (downtime, overlap).',
    ['schedule', 'reason'] as const,
  );
  const refused = leanCounter(
    registry,
    `${METRICS_PREFIX}budget_exceeded_total`,
    'Work refused by a rate limit or a cost cap, by limit.',
    ['limit'] as const,
  );

  const type = bounded();
  const source = bounded();
  const channel = bounded();
  const schedule = bounded();
  const limit = bounded();
  const labels = (task: Task) => ({ agent: agentOf(task), type: type(task.type) });
  const seconds = (ms: number) => Math.max(0, ms) / 1000;
  const { events } = ctx;
  return [
    events.on('task.enqueued', ({ task }) => enqueued(labels(task))),
    events.on('task.started', ({ task }) => {
      started(labels(task));
      if (task.startedAt !== null) {
        wait.observe({ agent: agentOf(task) }, seconds(task.startedAt - task.runAt));
      }
    }),
    events.on('task.completed', ({ task }) => {
      completed(labels(task));
      if (task.startedAt !== null) {
        const end = task.finishedAt ?? ctx.clock.now();
        run.observe({ agent: agentOf(task), outcome: 'completed' }, seconds(end - task.startedAt));
      }
    }),
    events.on('task.failed', ({ task, willRetry }) => {
      const l = labels(task);
      failed(l);
      if (willRetry) retried(l);
      else dead(l);
      if (task.startedAt !== null) {
        const end = task.finishedAt ?? ctx.clock.now();
        run.observe({ agent: l.agent, outcome: 'failed' }, seconds(end - task.startedAt));
      }
    }),
    events.on('task.cancelled', ({ task }) => cancelled(labels(task))),
    events.on('task.recovered', ({ requeued, failed: lost }) => {
      if (requeued.length > 0) recovered({ outcome: 'requeued' }, requeued.length);
      if (lost.length > 0) recovered({ outcome: 'failed' }, lost.length);
      // Rare (a crash): the event carries ids only, so the dead tasks' agents are looked up.
      for (const id of lost) {
        void store.tasks
          ?.get(id)
          .then((task) => dead(task ? labels(task) : { agent: 'unknown', type: 'unknown' }))
          .catch((err: unknown) => ctx.logger.debug({ err, id }, 'could not read a lost task'));
      }
    }),
    events.on('agent.attempt', ({ attempt }) =>
      attempts({
        agent: attempt.agent,
        outcome: attempt.outcome === 'success' ? 'success' : attempt.outcome.class,
      }),
    ),
    events.on('circuit.changed', ({ agent, state }) => {
      for (const s of ['closed', 'open', 'half-open', 'isolated'] as const) {
        circuit.set({ agent, state: s }, s === state ? 1 : 0);
      }
    }),
    events.on('message.received', ({ message }) =>
      messages({ channel: channel(message.from.channel) }),
    ),
    events.on('alert', (alert) =>
      alerts({ severity: alert.severity, source: source(alert.source) }),
    ),
    events.on('schedule.fired', (fire) =>
      fires({ schedule: schedule(fire.schedule), late: String(fire.late) }),
    ),
    events.on('schedule.missed', (m) =>
      missed({ schedule: schedule(m.schedule), reason: m.reason }, m.count),
    ),
    events.on('budget.exceeded', (b) => refused({ limit: limit(b.limit) })),
  ];
}

/** What the store says, read at most once per `storeCacheMs` whatever the number of scrapers. */
interface StoreFigures {
  counts: Record<string, number>;
  owedReplies: number;
  openDeadLetters: number | undefined;
  seconds: number;
}

/** Gauges read on scrape: the store's figures and the system monitor's last sample. */
function readOnScrape(
  ctx: PluginContext<ResolvedMetricsOptions>,
  registry: Registry,
  store: { tasks?: TaskStore },
): void {
  let cached:
    | { at: number; figures: Promise<StoreFigures | undefined>; pending: boolean }
    | undefined;
  let failing = false;
  /** The four store gauges of one scrape (and concurrent scrapes) share one read. */
  const figures = (): Promise<StoreFigures | undefined> => {
    const tasks = store.tasks;
    if (!tasks) return Promise.resolve(undefined);
    const now = Date.now();
    if (cached && (cached.pending || now - cached.at < ctx.options.storeCacheMs)) {
      return cached.figures;
    }
    const started = performance.now();
    const read = Promise.all([
      tasks.counts(),
      tasks.countOwedReplies(),
      tasks.countOpenDeadLetters?.(),
    ]).then(
      ([counts, owedReplies, openDeadLetters]) => {
        failing = false;
        return {
          counts,
          owedReplies,
          openDeadLetters,
          seconds: (performance.now() - started) / 1000,
        };
      },
      (err: unknown) => {
        // Once per failing streak: a scrape every 15 s must not flood the log.
        if (!failing) ctx.logger.warn({ err }, 'metrics: could not read the store');
        failing = true;
        cached = undefined;
        return undefined;
      },
    );
    const entry = { at: now, figures: read, pending: true };
    cached = entry;
    void read.then(() => {
      entry.pending = false;
    });
    return read;
  };

  const gauge = (name: string, help: string, read: () => Sample[] | Promise<Sample[]>) =>
    registry.registerMetric(readOnlyGauge(`${METRICS_PREFIX}${name}`, help, read));
  gauge('tasks', 'Tasks in the store, by status (pending is the queue depth).', async () => {
    const f = await figures();
    return f
      ? Object.entries(f.counts).map(([status, value]) => ({ labels: { status }, value }))
      : [];
  });
  gauge(
    'replies_owed',
    'Replies the outbox still owes (finished tasks whose answer is not delivered yet).',
    async () => {
      const f = await figures();
      return f ? [{ value: f.owedReplies }] : [];
    },
  );
  gauge(
    'dead_letters_open',
    'Inputs a channel could not take, kept and not yet discarded or retried.',
    async () => {
      const f = await figures();
      return f?.openDeadLetters !== undefined ? [{ value: f.openDeadLetters }] : [];
    },
  );
  gauge(
    'metrics_store_read_seconds',
    'How long the last read of the store figures took.',
    async () => {
      const f = await figures();
      return f ? [{ value: f.seconds }] : [];
    },
  );

  // The monitor's last sample; absent (no series) without monitor() or before its first sample.
  const system = () => ctx.tryResolve(SystemMonitorToken)?.latest();
  const one = (value: number | undefined): Sample[] => (value === undefined ? [] : [{ value }]);
  gauge(
    'system_cpu_usage_ratio',
    "The machine's CPU load, all cores, 0 to 1, at the monitor's last sample.",
    () => {
      const s = system();
      return one(s && s.cpuPercent / 100);
    },
  );
  gauge(
    'system_memory_usage_ratio',
    "The machine's memory in use (not available), 0 to 1, at the monitor's last sample.",
    () => {
      const s = system();
      return one(s && s.memory.usedPercent / 100);
    },
  );
  gauge(
    'system_memory_available_bytes',
    "The machine's available memory at the monitor's last sample.",
    () => one(system()?.memory.availableBytes),
  );
  gauge(
    'system_disk_usage_ratio',
    'Use of the file system holding each watched path, 0 to 1 (as df shows it).',
    () =>
      (system()?.disks ?? []).map((d) => ({
        labels: { path: d.path },
        value: d.usedPercent / 100,
      })),
  );
  gauge(
    'system_disk_available_bytes',
    'Space available to users on the file system holding each watched path.',
    () =>
      (system()?.disks ?? []).map((d) => ({ labels: { path: d.path }, value: d.availableBytes })),
  );
  gauge(
    'system_sample_timestamp_seconds',
    "When the monitor's last sample was taken (Unix seconds): stale figures show here.",
    () => {
      const s = system();
      return one(s && s.at / 1000);
    },
  );
}

/** One gauge sample: label values and the value. */
interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/**
 * A gauge whose samples are read at scrape time and may be absent. prom-client's own `Gauge`
 * always reports a label-less gauge (0 when never set), which would show a CPU of 0 before the
 * first sample, or a queue depth of 0 when the store could not be read.
 */
function readOnlyGauge(
  name: string,
  help: string,
  read: () => Sample[] | Promise<Sample[]>,
): Metric {
  const metric = {
    name,
    help,
    type: 'gauge',
    aggregator: 'sum',
    collect: undefined,
    async get() {
      const values = (await read()).map((v) => ({ labels: v.labels ?? {}, value: v.value }));
      return { name, help, type: 'gauge', aggregator: 'sum', values };
    },
  };
  return metric as unknown as Metric;
}

/**
 * Renders the registry. OpenMetrics goes through a view registry of proxies, because
 * prom-client renames counters in place when a registry renders OpenMetrics, which would
 * strip `_total` from every later Prometheus-text scrape.
 */
async function scrape(
  registry: Registry,
  accept: string | undefined,
): Promise<{ contentType: string; body: string }> {
  if (!accept?.includes('application/openmetrics-text')) {
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
  const view = new Registry<OpenMetricsContentType>();
  view.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  for (const metric of registry.getMetricsAsArray()) {
    // OpenMetrics names a counter family without `_total`; its samples get it back.
    // (prom-client's types call `type` an enum; at run time it is the string.)
    const type = metric.type as unknown as string;
    const name = type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name;
    const source = metric as MetricObject & {
      get(): Promise<object>;
      getForPromString?(): Promise<object>;
    };
    const read = source.getForPromString
      ? () => (source.getForPromString as () => Promise<object>).call(source)
      : () => source.get();
    view.registerMetric({
      name,
      type,
      get: async () => ({ ...(await read()), name }),
    } as unknown as Metric);
  }
  return { contentType: view.contentType, body: await view.metrics() };
}
