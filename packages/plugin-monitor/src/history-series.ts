import type { Registry } from 'prom-client';
import { type Buckets, bucketsOf, bucketsSince, quantile } from './quantiles.js';

/** How a series' points are combined into a coarser step (minutes into an hour). */
export type SeriesAggregation = 'avg' | 'sum' | 'max';

/** One series kept in the history, read from a metric of the registry once a minute. */
export interface HistorySeriesDefinition {
  /** The series' name in the history and the API (`tasks_pending`). */
  name: string;
  help: string;
  /** The registry metric it is read from. */
  metric: string;
  /**
   * `gauge`: the value now (samples matching `where`, summed, or their max with `reduce`);
   * `increase`: how much a counter grew during the minute; `quantile`: the `q` quantile of the
   * histogram's observations of the minute (every label set together).
   */
  kind: 'gauge' | 'increase' | 'quantile';
  aggregation: SeriesAggregation;
  where?: Record<string, string>;
  reduce?: 'sum' | 'max';
  q?: number;
}

const gauge = (
  name: string,
  metric: string,
  help: string,
  extra: Partial<HistorySeriesDefinition> = {},
): HistorySeriesDefinition => ({ name, metric, help, kind: 'gauge', aggregation: 'avg', ...extra });
const increase = (name: string, metric: string, help: string): HistorySeriesDefinition => ({
  name,
  metric,
  help,
  kind: 'increase',
  aggregation: 'sum',
});
const quantiles = (base: string, metric: string, what: string): HistorySeriesDefinition[] =>
  ([50, 95, 99] as const).map((p) => ({
    name: `${base}_p${p}`,
    metric,
    help: `${what}: p${p} of the step's observations, in seconds (an hour keeps its worst minute).`,
    kind: 'quantile' as const,
    aggregation: 'max' as const,
    q: p / 100,
  }));

/**
 * The series kept by the history: the figures charts, the daily report and alert rules read
 * over days. Names are stable (other plugins read them through `MetricsHistoryToken`).
 */
export const HISTORY_SERIES: readonly HistorySeriesDefinition[] = [
  gauge('tasks_pending', 'agentd_tasks', 'Tasks waiting (queue depth).', {
    where: { status: 'pending' },
  }),
  gauge('tasks_running', 'agentd_tasks', 'Tasks running.', { where: { status: 'running' } }),
  gauge(
    'queue_oldest_runnable_age_seconds',
    'agentd_queue_oldest_runnable_age_seconds',
    'Age of the oldest task that could run, in seconds.',
    { aggregation: 'max' },
  ),
  increase('tasks_enqueued', 'agentd_tasks_enqueued_total', 'Tasks enqueued in the step.'),
  increase('tasks_completed', 'agentd_tasks_completed_total', 'Tasks completed in the step.'),
  increase('tasks_failed', 'agentd_tasks_failed_total', 'Task attempts failed in the step.'),
  increase('tasks_dead', 'agentd_tasks_dead_total', 'Tasks failed for good in the step.'),
  ...quantiles('task_wait_seconds', 'agentd_task_wait_seconds', 'Wait from runnable to started'),
  ...quantiles('task_run_seconds', 'agentd_task_run_seconds', "One attempt's run time"),
  increase(
    'channel_messages_received',
    'agentd_channel_messages_received_total',
    'Messages received in the step.',
  ),
  increase('channel_replies_sent', 'agentd_channel_replies_sent_total', 'Messages sent.'),
  increase(
    'channel_send_failures',
    'agentd_channel_send_failures_total',
    'Messages that could not be sent.',
  ),
  increase('alerts', 'agentd_alerts_total', 'Alerts raised in the step.'),
  gauge('sessions_live', 'agentd_sessions', 'Live sessions.', { where: { status: 'live' } }),
  gauge('budget_spent_usd_day', 'agentd_budget_spent_usd', "Today's spend, US dollars.", {
    where: { period: 'day' },
    aggregation: 'max',
  }),
  gauge('system_cpu_usage_ratio', 'agentd_system_cpu_usage_ratio', 'Machine CPU load, 0 to 1.'),
  gauge('system_memory_usage_ratio', 'agentd_system_memory_usage_ratio', 'Machine memory use.'),
  gauge(
    'system_disk_usage_ratio',
    'agentd_system_disk_usage_ratio',
    'The fullest watched file system, 0 to 1.',
    { reduce: 'max', aggregation: 'max' },
  ),
  gauge(
    'process_resident_memory_bytes',
    'agentd_process_resident_memory_bytes',
    "The host process's resident memory, bytes.",
  ),
  increase('process_cpu_seconds', 'agentd_process_cpu_seconds_total', 'CPU seconds used.'),
];

interface MetricValues {
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

const matches = (labels: Record<string, string | number>, where?: Record<string, string>) =>
  !where || Object.entries(where).every(([k, v]) => String(labels[k]) === v);

/**
 * Reads every series' value of the minute from the registry, remembering the counters' totals
 * and the histograms' buckets between reads (increases and quantiles are per read interval).
 * The first read after start counts from 0, which is where in-process counters start.
 *
 * @example
 * ```ts
 * const reader = new SeriesReader(registry, HISTORY_SERIES);
 * const values = await reader.read(); // { tasks_pending: 3, task_wait_seconds_p99: undefined, ... }
 * ```
 */
export class SeriesReader {
  readonly #registry: Registry;
  readonly #series: readonly HistorySeriesDefinition[];
  readonly #totals = new Map<string, number>();
  readonly #buckets = new Map<string, Buckets>();

  constructor(registry: Registry, series: readonly HistorySeriesDefinition[]) {
    this.#registry = registry;
    this.#series = series;
  }

  async read(): Promise<Record<string, number | undefined>> {
    const wanted = new Set(this.#series.map((s) => s.metric));
    const values = new Map<string, MetricValues>();
    await Promise.all(
      [...wanted].map(async (name) => {
        const metric = this.#registry.getSingleMetric(name);
        if (metric) values.set(name, (await metric.get()) as unknown as MetricValues);
      }),
    );
    const out: Record<string, number | undefined> = {};
    const bucketsNow = new Map<string, Buckets>();
    for (const s of this.#series) {
      const metric = values.get(s.metric);
      if (!metric) {
        out[s.name] = undefined;
        continue;
      }
      if (s.kind === 'quantile') {
        let now = bucketsNow.get(s.metric);
        if (!now) {
          now = bucketsOf(metric, () => true, true).get('')?.buckets ?? { le: [], counts: [] };
          bucketsNow.set(s.metric, now);
        }
        out[s.name] = quantile(bucketsSince(now, this.#buckets.get(s.metric)), s.q ?? 0.5);
        continue;
      }
      const picked = metric.values.filter((v) => matches(v.labels, s.where));
      if (s.kind === 'increase') {
        const total = picked.reduce((a, v) => a + v.value, 0);
        out[s.name] = Math.max(0, total - (this.#totals.get(s.name) ?? 0));
        this.#totals.set(s.name, total);
        continue;
      }
      if (picked.length === 0) out[s.name] = undefined;
      else if (s.reduce === 'max') out[s.name] = Math.max(...picked.map((v) => v.value));
      else out[s.name] = picked.reduce((a, v) => a + v.value, 0);
    }
    for (const [metric, buckets] of bucketsNow) this.#buckets.set(metric, buckets);
    return out;
  }
}
