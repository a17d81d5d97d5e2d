/**
 * @module @agentd/plugin-monitor
 * Watches CPU, memory and the disks an agentd host writes to, raises alerts through the host's
 * notifier when thresholds are crossed (a Telegram chat receives them with the Telegram
 * plugin's `alerts` option), reports them in the `system` health check, and answers `/system`.
 * `metrics()` exports the host's figures to Prometheus at `GET /metrics` (prom-client).
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 * import { monitor } from '@agentd/plugin-monitor';
 *
 * export default defineConfig({ plugins: [sqlite(), monitor()] });
 * ```
 */

import { monitor } from './plugin.js';

export { formatBytes, readingsOf, systemLines, systemText } from './format.js';
export {
  METRICS_PLUGIN_NAME,
  METRICS_PREFIX,
  type MetricsRegistry,
  MetricsRegistryToken,
  metrics,
  metricsRouteAuth,
} from './metrics.js';
export {
  DEFAULT_RUN_BUCKETS,
  DEFAULT_WAIT_BUCKETS,
  type MetricsOptions,
  metricsOptionsSchema,
  type ResolvedMetricsOptions,
} from './metrics-options.js';
export {
  type MonitorOptions,
  monitorOptionsSchema,
  type ResolvedMonitorOptions,
} from './options.js';
export { MONITOR_PLUGIN_NAME, monitor, type SystemMonitor, SystemMonitorToken } from './plugin.js';
export { type DiskSample, type SystemSample, sampleDisks, sampleSystem } from './sample.js';
export { RECOVERY_MARGIN, type Reading, ThresholdWatch, type WatchAlert } from './thresholds.js';

/** The plugin factory, as the default export for JSON configs (`["@agentd/plugin-monitor", {...}]`). */
export default monitor;
