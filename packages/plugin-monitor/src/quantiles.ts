/** One histogram's cumulative buckets: upper bounds increasing, `+Inf` last. */
export interface Buckets {
  /** Upper bounds (seconds), increasing; the last is `Infinity`. */
  le: number[];
  /** Observations at or below each bound (cumulative). */
  counts: number[];
}

/**
 * The `q` quantile (0 to 1) of a histogram, interpolated inside its bucket as Prometheus'
 * `histogram_quantile` does; the highest finite bound when it falls in the `+Inf` bucket;
 * undefined with no observations.
 *
 * @example
 * ```ts
 * quantile({ le: [0.1, 1, Infinity], counts: [5, 9, 10] }, 0.5); // 0.1 * 5/5 = 0.1
 * ```
 */
export function quantile(buckets: Buckets, q: number): number | undefined {
  const total = buckets.counts.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (let i = 0; i < buckets.le.length; i++) {
    const le = buckets.le[i] as number;
    const count = buckets.counts[i] as number;
    if (count >= rank && count > previousCount) {
      if (le === Number.POSITIVE_INFINITY) return previousLe;
      return previousLe + ((le - previousLe) * (rank - previousCount)) / (count - previousCount);
    }
    if (le !== Number.POSITIVE_INFINITY) previousLe = le;
    previousCount = count;
  }
  return previousLe;
}

/** A histogram's samples as prom-client's `get()` gives them. */
interface HistogramValues {
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

/**
 * A histogram's buckets per label set (`le` removed), from prom-client's `get()` answer.
 * `keep` picks the label sets to include; they are summed when `merge` is set (all agents).
 *
 * @example
 * ```ts
 * const all = bucketsOf(await metric.get(), () => true, true).get('');
 * ```
 */
export function bucketsOf(
  metric: HistogramValues,
  keep: (labels: Record<string, string | number>) => boolean = () => true,
  merge = false,
): Map<string, { labels: Record<string, string>; buckets: Buckets }> {
  const out = new Map<string, { labels: Record<string, string>; byLe: Map<number, number> }>();
  for (const v of metric.values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const { le, ...rest } = v.labels;
    if (!keep(rest)) continue;
    const labels = Object.fromEntries(Object.entries(rest).map(([k, x]) => [k, String(x)]));
    const key = merge ? '' : JSON.stringify(labels);
    let entry = out.get(key);
    if (!entry) {
      entry = { labels: merge ? {} : labels, byLe: new Map() };
      out.set(key, entry);
    }
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    entry.byLe.set(bound, (entry.byLe.get(bound) ?? 0) + v.value);
  }
  const result = new Map<string, { labels: Record<string, string>; buckets: Buckets }>();
  for (const [key, { labels, byLe }] of out) {
    const le = [...byLe.keys()].sort((a, b) => a - b);
    result.set(key, { labels, buckets: { le, counts: le.map((b) => byLe.get(b) as number) } });
  }
  return result;
}

/**
 * `now` minus `before`, bucket by bucket: the observations made between two reads.
 *
 * @example
 * ```ts
 * const lastMinute = bucketsSince(current, previous);
 * ```
 */
export function bucketsSince(now: Buckets, before: Buckets | undefined): Buckets {
  if (!before) return now;
  return {
    le: now.le,
    counts: now.counts.map((c, i) => Math.max(0, c - (before.counts[i] ?? 0))),
  };
}
