import {
  createToken,
  HostInfoToken,
  type HttpAddress,
  HttpServerToken,
  type Plugin,
  StateStoreToken,
  type TaskStore,
  TaskStoreToken,
} from '@agentd/core';
import type { Registry } from 'prom-client';
import { countEvents, METRICS_PREFIX } from './event-metrics.js';
import { render } from './exposition.js';
import { MetricsHistoryToken, MINUTE_MS, StateHistory } from './history.js';
import { HISTORY_SERIES, SeriesReader } from './history-series.js';
import { mountMetricsApi, summarize } from './metrics-api.js';
import {
  type MetricsOptions,
  metricsOptionsSchema,
  type ResolvedMetricsOptions,
} from './metrics-options.js';
import { SystemMonitorToken } from './plugin.js';
import { processMetrics } from './process-metrics.js';
import { promClient } from './prom-client.js';
import { gaugesOnScrape } from './scrape-gauges.js';

export { METRICS_PREFIX };

/** The plugin's name in a host. */
export const METRICS_PLUGIN_NAME = 'metrics';

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

/**
 * Prometheus metrics for the host, on prom-client: one registry per host, fed by the event bus
 * (task, message, channel, HTTP, webhook, alert, schedule, circuit and budget events; nothing is
 * polled) and read from the store, the budget guard and the system monitor only when scraped.
 * Served at `GET /metrics` (Prometheus text, or OpenMetrics when asked for) by the host's HTTP
 * server (`webhook()`), open on loopback and behind the API token beyond it, with
 * `GET /api/metrics/summary` (what `agentd metrics` prints) and `GET /api/metrics/series` (the
 * history) beside it. With a store, key series are kept as history (`MetricsHistoryToken`).
 * Without an HTTP server the registry is still there for other plugins, under
 * {@link MetricsRegistryToken}.
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
  let history: StateHistory | undefined;
  let process: ReturnType<typeof processMetrics> | undefined;
  return {
    name: METRICS_PLUGIN_NAME,
    // Optional partners: when the host has them, they are provided (register) and started
    // (start) before this plugin, so the store can be read and the server's address is known.
    after: [TaskStoreToken, StateStoreToken, SystemMonitorToken, HttpServerToken],
    // MetricsHistoryToken is provided too, when the host has a store: not declared, as a host
    // without a store has none (order after MetricsRegistryToken to read it).
    provides: [MetricsRegistryToken],
    optionsSchema: metricsOptionsSchema,
    options,

    register(ctx) {
      const registry = new (promClient().Registry)();
      offs.push(...countEvents(ctx, registry, store));
      gaugesOnScrape(ctx, registry, store);
      if (ctx.options.processMetrics) process = processMetrics(registry, METRICS_PREFIX);
      ctx.provide(MetricsRegistryToken, {
        registry,
        scrape: (accept) => render(registry, accept),
      });
      const state = ctx.tryResolve(StateStoreToken);
      if (ctx.options.history && state) {
        const reader = new SeriesReader(registry, HISTORY_SERIES);
        history = new StateHistory({
          state,
          host: ctx.resolve(HostInfoToken).name,
          series: HISTORY_SERIES,
          now: () => ctx.clock.now(),
          sample: () => reader.read(),
        });
        ctx.provide(MetricsHistoryToken, history);
      }
      offs.push(() => {
        registry.clear();
        store.tasks = undefined;
      });
    },

    async start(ctx) {
      // Resolved here: the store plugin (listed in `after`) has opened it by now.
      store.tasks = ctx.tryResolve(TaskStoreToken);
      process?.start();
      if (process) offs.push(() => process?.stop());
      if (history) {
        const h = history;
        await h.open();
        offs.push(
          everyMinute(
            () =>
              void h
                .record()
                .catch((err: unknown) =>
                  ctx.logger.warn({ err }, 'metrics: could not record the history'),
                ),
          ),
        );
      }
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
        ...mountMetricsApi(http, auth, {
          summary: () =>
            summarize(service.registry, ctx.resolve(HostInfoToken).name, ctx.clock.now()),
          history,
        }),
      );
      ctx.logger.info(
        { path: ctx.options.path, auth },
        `serving metrics at ${http.address?.url ?? ''}${ctx.options.path}${auth === 'bearer' ? ' (API token required)' : ''}`,
      );
    },

    async stop(ctx) {
      // The minute in progress first, while the registry and the store are there, so a restart
      // loses nothing it had.
      await history
        ?.record()
        .catch((err: unknown) =>
          ctx.logger.debug({ err }, 'metrics: could not record the last minute'),
        );
      for (const off of offs.splice(0).reverse()) off();
    },
  };
}

/**
 * Calls `fn` a second before every minute ends, so the point stamped with a minute covers that
 * minute; returns the stop function. Unref'd: the history never keeps a process alive.
 */
function everyMinute(fn: () => void): () => void {
  let interval: NodeJS.Timeout | undefined;
  const first = setTimeout(
    () => {
      fn();
      interval = setInterval(fn, MINUTE_MS);
      interval.unref();
    },
    (2 * MINUTE_MS - (Date.now() % MINUTE_MS) - 1000) % MINUTE_MS,
  );
  first.unref();
  return () => {
    clearTimeout(first);
    clearInterval(interval);
  };
}
