import { AgentdError, createToken } from '@agentd/core';
import { type ApiRoute, answer, badRequest, type DashboardDeps } from './routes.js';

/**
 * The part of plugin-monitor's metrics history the charts read. The dashboard does not depend on
 * plugin-monitor: the token has the same name (tokens are `Symbol.for` their name), so when
 * `metrics({ history: true })` is in the host, this resolves to its history.
 */
export interface MetricsHistoryReader {
  series(
    name: string,
    query: { from?: number; to?: number; step?: number },
  ): Promise<{ step: number; from: number; to: number; points: { t: number; v: number }[] }>;
}

/** plugin-monitor's `MetricsHistoryToken`, by name. */
export const MetricsHistoryReaderToken =
  createToken<MetricsHistoryReader>('agentd.metrics.history');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The ranges the charts offer, and the step each is read at (at most 168 points). */
export const CHART_RANGES = {
  '1h': { span: HOUR, step: MINUTE },
  '6h': { span: 6 * HOUR, step: 5 * MINUTE },
  '24h': { span: 24 * HOUR, step: 15 * MINUTE },
  '7d': { span: 7 * 24 * HOUR, step: HOUR },
} as const;

/** The history series the overview charts, by chart. */
export const CHART_SERIES = [
  'tasks_enqueued',
  'tasks_completed',
  'tasks_failed',
  'task_wait_seconds_p50',
  'task_wait_seconds_p95',
  'task_run_seconds_p50',
  'task_run_seconds_p95',
  'system_cpu_usage_ratio',
  'system_memory_usage_ratio',
  'system_disk_usage_ratio',
  'process_resident_memory_bytes',
] as const;

/**
 * `GET /charts?range=1h|6h|24h|7d`: the chart series over the range, aligned on one time axis
 * (`t`, epoch ms; a missing point is `null`), or `{ enabled: false }` when the host keeps no
 * metrics history.
 */
export function mountChartRoutes(
  route: ApiRoute,
  deps: DashboardDeps,
  history: () => MetricsHistoryReader | undefined,
): void {
  route('GET', '/charts', async (request) => {
    const rangeName = request.query.get('range') || '1h';
    if (!Object.hasOwn(CHART_RANGES, rangeName)) {
      throw badRequest(`unknown range "${rangeName.slice(0, 20)}" (use 1h, 6h, 24h, 7d)`);
    }
    const range = CHART_RANGES[rangeName as keyof typeof CHART_RANGES];
    const reader = history();
    if (!reader) return answer(deps, { enabled: false });
    const to = deps.clock.now();
    const from = Math.floor((to - range.span) / range.step) * range.step;
    const read = await Promise.all(
      CHART_SERIES.map((name) =>
        reader.series(name, { from, to, step: range.step }).catch((error: unknown) => {
          // A history without this series (an older plugin-monitor) charts nothing for it.
          if (error instanceof AgentdError && error.code === 'E_METRICS_QUERY') return undefined;
          throw error;
        }),
      ),
    );
    const t: number[] = [];
    for (let at = from; at <= to; at += range.step) t.push(at);
    const index = new Map(t.map((at, i) => [at, i]));
    const series: Record<string, (number | null)[]> = {};
    CHART_SERIES.forEach((name, i) => {
      const values: (number | null)[] = t.map(() => null);
      for (const point of read[i]?.points ?? []) {
        const slot = index.get(point.t);
        if (slot !== undefined) values[slot] = point.v;
      }
      series[name] = values;
    });
    return answer(deps, { enabled: true, range: rangeName, step: range.step, t, series });
  });
}
