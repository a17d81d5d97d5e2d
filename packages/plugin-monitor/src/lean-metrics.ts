import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the task hot path, registered in a prom-client registry (which
 * renders them, in either format, beside prom-client's own metrics). prom-client's `inc` and
 * `observe` validate and hash the label set on every call (about 0.3 and 0.45 µs); these look
 * the series up by its joined label values and add, so an event costs a map lookup. A hot path
 * can do better still: `series(labels)` hands out the series itself, to keep and add to with no
 * label object, key or lookup per event.
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

/** One series of a counter, from {@link LeanCounter.series}: add to `value`. */
export interface CounterSeries {
  value: number;
}

/** A counter: call it with a label set (and an amount, default 1) to add to that series. */
export interface LeanCounter<L extends string> {
  (labels: Labels<L>, n?: number): void;
  /**
   * The series of `labels`, created at 0 if absent (and rendered from then on, so resolve it
   * when first adding to it): a hot path keeps it and adds to `value`. Stable for the
   * counter's life.
   */
  series(labels: Labels<L>): CounterSeries;
}

/**
 * A counter: `inc(labels, n)` adds `n` (default 1) to the series of `labels`.
 *
 * @example
 * ```ts
 * const completed = leanCounter(registry, 'agentd_tasks_completed_total', 'Tasks completed.', ['agent']);
 * completed({ agent: 'echo' });
 * const echo = completed.series({ agent: 'echo' }); // kept by a hot path
 * echo.value++;
 * ```
 */
export function leanCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): LeanCounter<L> {
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
  const seriesOf = (labels: Labels<L>): CounterSeries => {
    const key = keyOf(labelNames, labels);
    let s = series.get(key);
    if (!s) {
      s = { labels: pick(labelNames, labels), value: 0 };
      series.set(key, s);
    }
    return s;
  };
  const inc = (labels: Labels<L>, n = 1) => {
    seriesOf(labels).value += n;
  };
  return Object.assign(inc, { series: seriesOf });
}

/** One series of a histogram, from {@link LeanHistogram.series}. */
export interface HistogramSeries {
  observe(value: number): void;
}

/** A histogram: `observe(labels, value)`, or `series(labels)` kept by a hot path. */
export interface LeanHistogram<L extends string> {
  observe(labels: Labels<L>, value: number): void;
  /**
   * The series of `labels`, created empty if absent (and rendered from then on, so resolve it
   * when first observing into it). Stable for the histogram's life.
   */
  series(labels: Labels<L>): HistogramSeries;
}

/** A histogram's series: observations per bucket (not cumulative), their sum and count. */
class BucketSeries implements HistogramSeries {
  readonly labels: Record<string, string>;
  readonly #bounds: readonly number[];
  /** Observations per bucket; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: Record<string, string>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/**
 * A histogram with fixed upper bounds (seconds, increasing): `observe(labels, value)`.
 *
 * @example
 * ```ts
 * const run = leanHistogram(registry, 'agentd_task_run_seconds', 'Run time.', ['agent'], [0.1, 1, 10]);
 * run.observe({ agent: 'echo' }, 0.042);
 * const echo = run.series({ agent: 'echo' }); // kept by a hot path
 * echo.observe(0.042);
 * ```
 */
export function leanHistogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: readonly number[],
): LeanHistogram<L> {
  const bounds = [...buckets];
  const series = new Map<string, BucketSeries>();
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
  const seriesOf = (labels: Labels<L>): BucketSeries => {
    const key = keyOf(labelNames, labels);
    let s = series.get(key);
    if (!s) {
      s = new BucketSeries(pick(labelNames, labels), bounds);
      series.set(key, s);
    }
    return s;
  };
  return {
    observe(labels, value) {
      if (Number.isFinite(value)) seriesOf(labels).observe(value);
    },
    series: seriesOf,
  };
}
