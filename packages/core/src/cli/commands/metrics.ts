import type { StateStore } from '../../contracts/state.js';
import { StoreToken } from '../../contracts/store.js';
import { formatTime, table } from '../format.js';
import { loadCheckedConfig } from '../host-config.js';
import type { CliIO } from '../output.js';
import { withStore } from '../store-access.js';
import { type ApiEndpoint, findApi, STATUS_NOT_RUNNING } from './status.js';

// Core cannot import @agentd/plugin-monitor, so this command speaks two documented formats:
// the JSON of `GET /api/metrics/summary` (docs/monitor.md), and, when no host answers, the
// history the plugin keeps in the state store (namespace `metrics-history`, one key per host
// and hour holding each series' minute points).

/** What `GET /api/metrics/summary` answers (the fields printed here). */
interface Summary {
  host: string;
  at: number;
  figures: {
    name: string;
    type: string;
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

const HISTORY_NAMESPACE = 'metrics-history';
const SUMMARY_PATH = '/api/metrics/summary';

/** A number for a terminal: integers as they are, others with at most 4 significant digits. */
function num(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** Seconds as a latency: `850ms`, `2.5s`, `-` when unknown. */
function latency(seconds: number | null): string {
  if (seconds === null) return '-';
  return seconds < 1 ? `${num(seconds * 1000)}ms` : `${num(seconds)}s`;
}

const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || '-';

async function askHost(
  endpoint: ApiEndpoint,
  timeoutMs: number,
): Promise<{ body: Summary } | { reason: string }> {
  try {
    const response = await fetch(`${endpoint.url}${SUMMARY_PATH}`, {
      headers: {
        accept: 'application/json',
        ...(endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {}),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.ok) return { body: (await response.json()) as Summary };
    await response.body?.cancel();
    return {
      reason:
        response.status === 404
          ? `the host at ${endpoint.url} has no metrics() plugin (404)`
          : response.status === 401
            ? `the host at ${endpoint.url} refused the API token (401)`
            : `the host at ${endpoint.url} answered ${response.status}`,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const timedOut = (error as Error).name === 'TimeoutError';
    return {
      reason: `no host answers at ${endpoint.url} (${timedOut ? `no answer within ${timeoutMs} ms` : (cause ?? (error as Error).message)})`,
    };
  }
}

function printSummary(io: CliIO, s: Summary, source: string, all: boolean): void {
  io.out(`host "${s.host}" at ${formatTime(s.at)} (${source})`);
  io.out('');
  const rows: string[][] = [];
  for (const f of s.figures) {
    for (const sample of f.samples) {
      if (!all && sample.value === 0) continue;
      rows.push([f.name, labelText(sample.labels), num(sample.value)]);
    }
  }
  for (const line of table(['METRIC', 'LABELS', 'VALUE'], rows)) io.out(line);
  const latencies = s.latencies.filter((l) => all || l.count > 0);
  if (latencies.length === 0) return;
  io.out('');
  for (const line of table(
    ['HISTOGRAM', 'LABELS', 'COUNT', 'P50', 'P95', 'P99'],
    latencies.map((l) => [
      l.name,
      labelText(l.labels),
      String(l.count),
      latency(l.p50),
      latency(l.p95),
      latency(l.p99),
    ]),
  )) {
    io.out(line);
  }
}

/**
 * The newest minute the history holds for host `name`: each series' last point of the hour
 * being filled, as figures, and the `_p50/_p95/_p99` series as latencies.
 */
async function fromHistory(state: StateStore, name: string): Promise<Summary | undefined> {
  const open = await state.get(HISTORY_NAMESPACE, `${name}:open`);
  if (typeof open !== 'number') return undefined;
  const chunk = await state.get(HISTORY_NAMESPACE, `${name}:m:${String(open).padStart(13, '0')}`);
  if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk)) return undefined;
  let last = -1;
  const latest = new Map<string, number>();
  for (const [series, points] of Object.entries(chunk)) {
    if (!Array.isArray(points)) continue;
    for (let i = points.length - 1; i >= 0; i--) {
      const v = points[i];
      if (typeof v === 'number') {
        latest.set(series, v);
        last = Math.max(last, i);
        break;
      }
    }
  }
  const summary: Summary = {
    host: name,
    at: open + Math.max(0, last) * 60_000,
    figures: [],
    latencies: [],
  };
  const quantiles = new Map<string, Summary['latencies'][number]>();
  for (const [series, value] of latest) {
    const q = /^(.+)_p(50|95|99)$/.exec(series);
    if (!q) {
      summary.figures.push({ name: series, type: 'history', samples: [{ labels: {}, value }] });
      continue;
    }
    const base = q[1] as string;
    const row = quantiles.get(base) ?? {
      name: base,
      labels: {},
      count: 1,
      p50: null,
      p95: null,
      p99: null,
    };
    row[`p${q[2]}` as 'p50' | 'p95' | 'p99'] = value;
    quantiles.set(base, row);
  }
  summary.latencies = [...quantiles.values()];
  return summary;
}

/**
 * `agentd metrics [--json] [--all]`: the running host's current figures through its HTTP API
 * (`GET /api/metrics/summary`, served by `metrics()` of `@agentd/plugin-monitor`; the address
 * and token come from the webhook plugin's options, as for `agentd status`), with p50/p95/p99 of
 * every histogram. When no host answers, the newest minute of the metrics history kept in the
 * store (exit code 3). Zero values are left out unless `--all`.
 *
 * @example
 * ```ts
 * const code = await metricsCommand(processIO, { cwd: process.cwd(), json: true });
 * ```
 */
export async function metricsCommand(
  io: CliIO,
  options: {
    config?: string;
    cwd: string;
    json?: boolean;
    all?: boolean;
    timeoutMs?: number;
    envFile?: string;
  },
): Promise<number> {
  const checked = await loadCheckedConfig(options.cwd, options.config, {
    envFile: options.envFile,
    storeOnly: true,
  });
  const found = await findApi(checked);
  const endpoint = 'url' in found ? found : undefined;
  const asked = endpoint
    ? await askHost(endpoint, options.timeoutMs ?? 2000)
    : { reason: (found as { reason: string }).reason };
  if ('body' in asked) {
    if (options.json)
      io.out(JSON.stringify({ source: 'api', url: endpoint?.url, ...asked.body }, null, 2));
    else
      printSummary(
        io,
        asked.body,
        `the running host's HTTP API at ${endpoint?.url}`,
        options.all === true,
      );
    return 0;
  }
  const name = checked.resolved.name;
  const hasStore = checked.resolved.plugins.some((p) =>
    p.plugin.provides?.some((t) => t.key === StoreToken.key),
  );
  const summary = hasStore
    ? await withStore(checked, (store) => fromHistory(store.state, name))
    : undefined;
  if (options.json) {
    io.out(
      JSON.stringify(
        {
          source: summary ? 'history' : 'none',
          reason: asked.reason,
          ...(summary ?? { host: name }),
        },
        null,
        2,
      ),
    );
    return STATUS_NOT_RUNNING;
  }
  if (!summary) {
    io.out(`host "${name}": no running host answered (${asked.reason})`);
    io.out(
      hasStore
        ? '  and the store holds no metrics history for it'
        : '  and the config has no store plugin to read instead',
    );
    return STATUS_NOT_RUNNING;
  }
  printSummary(
    io,
    summary,
    `the metrics history in the store, its newest minute: ${asked.reason}`,
    options.all === true,
  );
  return STATUS_NOT_RUNNING;
}
