import type { Registry } from 'prom-client';

/** One label matcher of a selector: `agent="echo"`, `status!="completed"`, `type=~"cron:.*"`. */
export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** A parsed `family{label="value",...}`. */
export interface MetricSelector {
  family: string;
  matchers: LabelMatcher[];
}

/** One series of a family: its labels and value. */
export interface SeriesValue {
  labels: Record<string, string>;
  value: number;
}

const FAMILY = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/;

/**
 * Parses a Prometheus-style selector (a family name and optional label matchers, as in PromQL),
 * or returns why it is not one.
 *
 * @example
 * ```ts
 * parseSelector('agentd_tasks{status="pending"}');
 * // { family: 'agentd_tasks', matchers: [{ label: 'status', op: '=', value: 'pending' }] }
 * ```
 */
export function parseSelector(text: string): MetricSelector | string {
  const open = text.indexOf('{');
  const family = (open < 0 ? text : text.slice(0, open)).trim();
  if (!FAMILY.test(family)) {
    return `"${family}" is not a metric family name (letters, digits, "_" and ":")`;
  }
  if (open < 0) return { family, matchers: [] };
  if (!text.trimEnd().endsWith('}')) return `the matchers of "${text}" do not end with "}"`;
  let rest = text.slice(open + 1, text.trimEnd().length - 1);
  const matchers: LabelMatcher[] = [];
  while (rest.trim() !== '') {
    const m = MATCHER.exec(rest);
    if (!m)
      return `cannot read the matcher "${rest.trim()}" (write label="value", label!="value", label=~"regex")`;
    const [whole, label, op, raw] = m as unknown as [string, string, LabelMatcher['op'], string];
    const value = raw.replace(/\\(.)/g, '$1');
    if (op === '=~' || op === '!~') {
      try {
        new RegExp(`^(?:${value})$`);
      } catch {
        return `"${value}" is not a valid regular expression`;
      }
    }
    matchers.push({ label, op, value });
    rest = rest.slice(whole.length);
  }
  return { family, matchers };
}

function matches(labels: Record<string, string>, matcher: LabelMatcher): boolean {
  const actual = labels[matcher.label] ?? '';
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return new RegExp(`^(?:${matcher.value})$`).test(actual);
    case '!~':
      return !new RegExp(`^(?:${matcher.value})$`).test(actual);
  }
}

/**
 * The current series of a family in a prom-client registry that match the selector; undefined
 * when the registry has no such family. A histogram or summary family is read through its
 * sample names: select `agentd_task_run_seconds_count` or `_sum` (or a `_bucket` with `le`).
 *
 * @example
 * ```ts
 * await readSeries(registry, parseSelector('agentd_tasks{status="pending"}') as MetricSelector);
 * // [{ labels: { status: 'pending' }, value: 3 }]
 * ```
 */
export async function readSeries(
  registry: Registry,
  selector: MetricSelector,
): Promise<SeriesValue[] | undefined> {
  const family =
    registry.getSingleMetric(selector.family) ??
    registry.getSingleMetric(selector.family.replace(/_(count|sum|bucket)$/, ''));
  if (!family) return undefined;
  const data = (await family.get()) as {
    values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
  };
  const out: SeriesValue[] = [];
  for (const v of data.values) {
    // Histograms list their _bucket/_sum/_count samples under one family.
    if (v.metricName !== undefined && v.metricName !== selector.family) continue;
    const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)]));
    if (selector.matchers.every((m) => matches(labels, m))) out.push({ labels, value: v.value });
  }
  return out;
}
