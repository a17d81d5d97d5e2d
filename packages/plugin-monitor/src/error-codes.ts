/**
 * The error codes `@agentd/plugin-monitor` raises, added to core's `AgentdErrorCodes` by
 * declaration merging (docs/errors.md gives each one's cause and fix). Bad rule or heartbeat
 * options are config errors (`E_CONFIG`), reported with their paths before anything starts.
 *
 * @example
 * ```ts
 * if (error instanceof AgentdError && error.code === 'E_MONITOR_NO_METRICS') console.error('add metrics()');
 * ```
 */
export const MONITOR_ERROR_CODES = {
  E_MONITOR_NO_METRICS:
    'An alert rule reads a Prometheus metric, but the host has no metrics() plugin to read it from.',
  E_METRICS_QUERY:
    'A metrics history query names an unknown series, or its range or step is out of bounds.',
} as const;

type MonitorErrorCodes = typeof MONITOR_ERROR_CODES;

declare module '@agentd/core' {
  interface AgentdErrorCodes extends MonitorErrorCodes {}
}
