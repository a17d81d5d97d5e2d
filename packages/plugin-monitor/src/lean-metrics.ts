import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the task hot path, registered in a prom-client registry (which
 * renders them, in either format, beside prom-client's own metrics). prom-client's `inc` and
 * `observe` validate and hash the label set on every call (about 0.3 and 0.45 µs); these look
 * the series up by its joined label values and add, so an event costs a map lookup.
 */

/** One series' label values, by label name. */
type Labels<L extends string> = Readonly<Record<L, string>>;

/** The joined label values: the series' key. */
function keyOf<L extends string>(names: readonly L[], labels: Labels<L>): string {
  let key = labels[names[0] as L] ?? '';
  for (let i = 1; i < names.length; i++) key += `\u0000${labels[names[i] as L]}`;
  return key;
}

/** Copies only the declared labels, so a series never carries more than its metric declares. */
function pick<L extends string>(names: readonly L[], labels: Labels<L>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) out[name] = labels[name];
  return out;
}

/**
 * A counter: `inc(labels, n)` adds `n` (default 1) to the series of `labels`.
 *
 * @example
 * ```ts
 * const completed = leanCounter(registry, 'agentd_tasks_completed_total', 'Tasks completed.', ['agent']);
 * completed({ agent: 'echo' });
 * ```
 */
export function leanCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): (labels: Labels<L>, n?: number) => void {
  const series = new Map<string, { labels: Record<string, string>; value: number }>();
  registry.registerMetric({
    name,
    help,
    type: 'counter',
    aggregator: 'sum',
    async get() {
      const values = [...series.values()].map((s) => ({ labels: s.labels, value: s.value }));
      return { name, help, type: 'counter', aggregator: 'sum', values };
    },
  } as unknown as Metric);
  return (labels, n = 1) => {
    const key = keyOf(labelNames, labels);
    const s = series.get(key);
    if (s) s.value += n;
    else series.set(key, { labels: pick(labelNames, labels), value: n });
  };
}

/**
 * A histogram with fixed upper bounds (seconds, increasing): `observe(labels, value)`.
 *
 * @example
 * ```ts
 * const run = leanHistogram(registry, 'agentd_task_run_seconds', 'Run time.', ['agent'], [0.1, 1, 10]);
 * run.observe({ agent: 'echo' }, 0.042);
 * ```
 */
export function leanHistogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: readonly number[],
): { observe(labels: Labels<L>, value: number): void } {
  interface Series {
    labels: Record<string, string>;
    /** Observations per bucket (not cumulative); the last slot is above every bound. */
    counts: Float64Array;
    sum: number;
    count: number;
  }
  const bounds = [...buckets];
  const series = new Map<string, Series>();
  registry.registerMetric({
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: {
        labels: Record<string, string | number>;
        value: number;
        metricName: string;
      }[] = [];
      for (const s of series.values()) {
        let cumulative = 0;
        bounds.forEach((le, i) => {
          cumulative += s.counts[i] as number;
          values.push({
            labels: { le, ...s.labels },
            value: cumulative,
            metricName: `${name}_bucket`,
          });
        });
        values.push({
          labels: { le: '+Inf', ...s.labels },
          value: s.count,
          metricName: `${name}_bucket`,
        });
        values.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
        values.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  } as unknown as Metric);
  return {
    observe(labels, value) {
      if (!Number.isFinite(value)) return;
      const key = keyOf(labelNames, labels);
      let s = series.get(key);
      if (!s) {
        s = {
          labels: pick(labelNames, labels),
          counts: new Float64Array(bounds.length + 1),
          sum: 0,
          count: 0,
        };
        series.set(key, s);
      }
      let i = 0;
      while (i < bounds.length && value > (bounds[i] as number)) i++;
      (s.counts as Float64Array)[i] = (s.counts[i] as number) + 1;
      s.sum += value;
      s.count++;
    },
  };
}
