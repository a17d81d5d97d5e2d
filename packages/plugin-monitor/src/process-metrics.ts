import {
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
} from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import { readOnScrape, type Sample } from './exposition.js';
import { leanHistogram } from './lean-metrics.js';

/** GC pauses: 0.1 ms (a scavenge) to a second (a full mark-compact of a big heap). */
const GC_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];
/** Event-loop delay figures cover about this long (ms). */
const LAG_WINDOW_MS = 60_000;
const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };

/**
 * The process's own figures (CPU, memory, heap, event-loop delay, GC), under prom-client's
 * default-metric names, read on scrape. Written here rather than taken from prom-client's
 * `collectDefaultMetrics`, which starts an event-loop monitor and a GC observer per call and
 * never stops them: every host created in one process (tests, a supervisor) leaked both. These
 * start with the plugin and stop with it.
 *
 * @example
 * ```ts
 * const process = processMetrics(registry, 'agentd_');
 * process.start();
 * process.stop();
 * ```
 */
export function processMetrics(
  registry: Registry,
  prefix: string,
): { start(): void; stop(): void } {
  let loop: IntervalHistogram | undefined;
  let gcObserver: PerformanceObserver | undefined;
  const startedAt = Math.round(Date.now() / 1000 - process.uptime());
  const add = (name: string, help: string, read: () => Sample[], type?: 'gauge' | 'counter') =>
    registry.registerMetric(readOnScrape(`${prefix}${name}`, help, read, type));
  const one = (value: number): Sample[] => [{ value }];

  add(
    'process_cpu_user_seconds_total',
    'User CPU time spent, in seconds.',
    () => one(process.cpuUsage().user / 1e6),
    'counter',
  );
  add(
    'process_cpu_system_seconds_total',
    'System CPU time spent, in seconds.',
    () => one(process.cpuUsage().system / 1e6),
    'counter',
  );
  add(
    'process_cpu_seconds_total',
    'User and system CPU time spent, in seconds.',
    () => {
      const { user, system } = process.cpuUsage();
      return one((user + system) / 1e6);
    },
    'counter',
  );
  add('process_resident_memory_bytes', 'Resident memory size, in bytes.', () =>
    one(process.memoryUsage.rss()),
  );
  add('process_start_time_seconds', 'When the process started (Unix seconds).', () =>
    one(startedAt),
  );
  add('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes.', () =>
    one(process.memoryUsage().heapTotal),
  );
  add('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', () =>
    one(process.memoryUsage().heapUsed),
  );
  add('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript, in bytes.', () =>
    one(process.memoryUsage().external),
  );
  add('nodejs_active_resources_total', 'Handles and requests keeping the event loop alive.', () =>
    one(process.getActiveResourcesInfo().length),
  );
  add('nodejs_version_info', 'The Node.js version, as a label.', () => [
    { labels: { version: process.version }, value: 1 },
  ]);
  // The loop's delay over about the last minute: reset on the first read a minute after the
  // last reset, so Prometheus, the history and `agentd metrics` reading it do not steal from
  // each other (prom-client resets on every scrape).
  let resetAt = performance.now();
  const lag = (read: (h: IntervalHistogram) => number) => () => {
    if (!loop) return [];
    // No delay sampled yet (a scrape right after start): 0, so the series never comes and goes.
    if (loop.count === 0) return one(0);
    const value = read(loop) / 1e9;
    if (performance.now() - resetAt >= LAG_WINDOW_MS) {
      queueMicrotask(() => loop?.reset());
      resetAt = performance.now();
    }
    return one(value);
  };
  add(
    'nodejs_eventloop_lag_seconds',
    'Mean event-loop delay over about the last minute, in seconds.',
    lag((h) => h.mean),
  );
  add(
    'nodejs_eventloop_lag_p50_seconds',
    'Median event-loop delay over about the last minute.',
    lag((h) => h.percentile(50)),
  );
  add(
    'nodejs_eventloop_lag_p90_seconds',
    '90th percentile event-loop delay over about the last minute.',
    lag((h) => h.percentile(90)),
  );
  add(
    'nodejs_eventloop_lag_p99_seconds',
    '99th percentile event-loop delay over about the last minute.',
    lag((h) => h.percentile(99)),
  );
  add(
    'nodejs_eventloop_lag_max_seconds',
    'Longest event-loop delay over about the last minute.',
    lag((h) => h.max),
  );
  const gc = leanHistogram(
    registry,
    `${prefix}nodejs_gc_duration_seconds`,
    'Garbage collection pauses, by kind, in seconds.',
    ['kind'] as const,
    GC_BUCKETS,
  );

  return {
    start() {
      loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      gcObserver = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
          gc.observe({ kind: GC_KINDS[kind] ?? 'other' }, entry.duration / 1000);
        }
      });
      gcObserver.observe({ entryTypes: ['gc'] });
    },
    stop() {
      loop?.disable();
      loop = undefined;
      gcObserver?.disconnect();
      gcObserver = undefined;
    },
  };
}
