import { AgentdError, HttpError, type HttpServer, type JsonValue } from '@agentd/core';
import type { Registry } from 'prom-client';
import { HOUR_MS, type MetricsHistory, MINUTE_MS } from './history.js';
import { bucketsOf, quantile } from './quantiles.js';

/** Where the API routes of `metrics()` are mounted. */
export const METRICS_SUMMARY_PATH = '/api/metrics/summary';
export const METRICS_SERIES_PATH = '/api/metrics/series';

/**
 * What `GET /api/metrics/summary` answers and `agentd metrics` prints: every gauge and counter
 * of the registry with its samples, and every histogram as p50/p95/p99 per label set (since
 * the host started). A documented JSON format, so core's CLI reads it without this package.
 */
export interface MetricsSummary {
  host: string;
  /** Epoch ms. */
  at: number;
  figures: {
    name: string;
    help: string;
    type: 'gauge' | 'counter';
    samples: { labels: Record<string, string>; value: number }[];
  }[];
  latencies: {
    name: string;
    labels: Record<string, string>;
    count: number;
    p50: number | null;
    p95: number | null;
    p99: number | null;
  }[];
}

interface Values {
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

/**
 * Reads the registry into a {@link MetricsSummary}.
 *
 * @example
 * ```ts
 * const summary = await summarize(registry, 'box', Date.now());
 * summary.latencies.find((l) => l.name === 'agentd_task_run_seconds')?.p99;
 * ```
 */
export async function summarize(
  registry: Registry,
  host: string,
  at: number,
): Promise<MetricsSummary> {
  const summary: MetricsSummary = { host, at, figures: [], latencies: [] };
  for (const metric of registry.getMetricsAsArray()) {
    const type = metric.type as unknown as string;
    const read = (await (metric as unknown as { get(): Promise<Values> }).get()) as Values;
    if (type === 'histogram') {
      for (const { labels, buckets } of bucketsOf(read).values()) {
        const q = (p: number) => quantile(buckets, p) ?? null;
        summary.latencies.push({
          name: metric.name,
          labels,
          count: buckets.counts.at(-1) ?? 0,
          p50: q(0.5),
          p95: q(0.95),
          p99: q(0.99),
        });
      }
    } else if (type === 'gauge' || type === 'counter') {
      summary.figures.push({
        name: metric.name,
        help: metric.help,
        type,
        samples: read.values.map((v) => ({
          labels: Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)])),
          value: v.value,
        })),
      });
    }
  }
  return summary;
}

/** `from`/`to` as epoch ms or an ISO date; `step` as ms or `1m`, `15m`, `1h`, `1d`. */
function parseTime(text: string | null, field: string): number | undefined {
  if (text === null || text === '') return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(value)) {
    throw new HttpError(400, 'invalid_query', `${field} must be epoch ms or an ISO date`);
  }
  return value;
}

function parseStep(text: string | null): number | undefined {
  if (text === null || text === '') return undefined;
  const match = /^(\d+)(ms|m|h|d)?$/.exec(text);
  if (!match) throw new HttpError(400, 'invalid_query', 'step must be ms or like 1m, 1h, 1d');
  const n = Number(match[1]);
  const unit = { ms: 1, m: MINUTE_MS, h: HOUR_MS, d: 24 * HOUR_MS }[match[2] ?? 'ms'] as number;
  return n * unit;
}

/**
 * Mounts `GET /api/metrics/summary` and, with a history, `GET /api/metrics/series` on the
 * host's HTTP server, with the auth of `/metrics`. Returns the unmount functions.
 *
 * @example
 * ```ts
 * offs.push(...mountMetricsApi(http, 'none', { summary: () => summarize(registry, 'box', Date.now()), history }));
 * ```
 */
export function mountMetricsApi(
  http: HttpServer,
  auth: 'none' | 'bearer',
  deps: { summary: () => Promise<MetricsSummary>; history: MetricsHistory | undefined },
): (() => void)[] {
  const offs = [
    http.route({
      method: 'GET',
      path: METRICS_SUMMARY_PATH,
      auth,
      handler: async () => ({ json: (await deps.summary()) as unknown as JsonValue }),
    }),
  ];
  const history = deps.history;
  if (!history) return offs;
  offs.push(
    http.route({
      method: 'GET',
      path: METRICS_SERIES_PATH,
      auth,
      handler: async (request) => {
        const name = request.query.get('name');
        if (!name) {
          return {
            json: { series: history.list() } as unknown as JsonValue,
          };
        }
        const query = {
          from: parseTime(request.query.get('from'), 'from'),
          to: parseTime(request.query.get('to'), 'to'),
          step: parseStep(request.query.get('step')),
        };
        try {
          return { json: (await history.series(name, query)) as unknown as JsonValue };
        } catch (error) {
          if (error instanceof AgentdError && error.code === 'E_METRICS_QUERY') {
            throw new HttpError(400, 'invalid_query', error.message);
          }
          throw error;
        }
      },
    }),
  );
  return offs;
}
