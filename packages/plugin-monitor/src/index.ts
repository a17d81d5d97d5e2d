/**
 * @module @agentd/plugin-monitor
 * Watches CPU, memory and the disks an agentd host writes to, evaluates alert rules (defaults
 * for a stalled runner, errors, the queue, budgets, circuits, channels, restarts and the machine;
 * custom ones over Prometheus metrics) and raises their alerts through the host's notifier (a
 * Telegram chat receives them with the Telegram plugin's `alerts` option), pings a dead man's
 * switch (`heartbeat`), reports in the `system` and `alert-rules` health checks, and answers `/system`.
 * `metrics()` exports the host's figures to Prometheus at `GET /metrics` (prom-client) and keeps
 * key series as history in the host's store (`MetricsHistoryToken`, `GET /api/metrics/series`).
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

export { durationSchema, formatDuration, parseDuration } from './duration.js';
export { MONITOR_ERROR_CODES } from './error-codes.js';
export { formatBytes, systemLines, systemText } from './format.js';
export {
  failReason,
  Heartbeat,
  type HeartbeatKind,
  type HeartbeatOptions,
  heartbeatOptionsSchema,
  type ResolvedHeartbeatOptions,
} from './heartbeat.js';
export {
  HISTORY_NAMESPACE,
  type MetricsHistory,
  MetricsHistoryToken,
  type Series,
  type SeriesQuery,
} from './history.js';
export { HISTORY_SERIES, type HistorySeriesDefinition } from './history-series.js';
export {
  METRICS_PLUGIN_NAME,
  METRICS_PREFIX,
  type MetricsRegistry,
  MetricsRegistryToken,
  metrics,
  metricsRouteAuth,
} from './metrics.js';
export {
  METRICS_SERIES_PATH,
  METRICS_SUMMARY_PATH,
  type MetricsSummary,
  summarize,
} from './metrics-api.js';
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
  type SystemSampler,
} from './options.js';
export { MONITOR_PLUGIN_NAME, monitor, type SystemMonitor, SystemMonitorToken } from './plugin.js';
export {
  buildReport,
  type DailyReport,
  type JournalEntry,
  type Percentiles,
  type ReportSources,
} from './report/report-data.js';
export {
  REPORT_PATH,
  REPORT_PLUGIN_NAME,
  type ReportOptions,
  type ResolvedReportOptions,
  report,
  reportOptionsSchema,
} from './report/report-plugin.js';
export { reportText } from './report/report-text.js';
export { defaultRules, type RuleIssue, resolveRules } from './rules/default-rules.js';
export {
  type LabelMatcher,
  type MetricSelector,
  parseSelector,
  readSeries,
  type SeriesValue,
} from './rules/metric-selector.js';
export {
  compare,
  formatValue,
  type RuleAlert,
  RuleEngine,
  type RuleInstance,
  render,
} from './rules/rule-engine.js';
export { RuleEvaluator } from './rules/rule-evaluator.js';
export {
  AGGREGATES,
  type Aggregate,
  type AlertRule,
  COMPARISONS,
  type Comparison,
  completeRule,
  DEFAULT_MESSAGE,
  DEFAULT_RECOVERY_MESSAGE,
  type ParsedRuleEntry,
  type RuleEntry,
  ruleEntrySchema,
  SIGNALS,
  type SignalName,
} from './rules/rule-schema.js';
export {
  BuiltinSignals,
  ERROR_RATIO_MIN_ATTEMPTS,
  ERROR_RATIO_WINDOW_MS,
  RESTART_WINDOW_MS,
  type RuleSeries,
  SIGNAL_UNITS,
  type SignalSources,
  type SignalUnit,
} from './rules/signals.js';
export { type DiskSample, type SystemSample, sampleDisks, sampleSystem } from './sample.js';
export {
  CRITICAL_PERCENT,
  type DefaultRuleSettings,
  RECOVERY_MARGIN,
  systemRules,
} from './thresholds.js';

/** The plugin factory, as the default export for JSON configs (`["@agentd/plugin-monitor", {...}]`). */
export default monitor;
