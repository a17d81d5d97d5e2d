/**
 * The error codes `@agentd/plugin-monitor` raises, added to core's `AgentdErrorCodes` by
 * declaration merging (docs/errors.md gives each one's cause and fix).
 *
 * @example
 * ```ts
 * if (error instanceof AgentdError && error.code === 'E_METRICS_QUERY') console.error(error.message);
 * ```
 */
export const MONITOR_ERROR_CODES = {
  E_METRICS_QUERY:
    'A metrics history query names an unknown series, or its range or step is out of bounds.',
} as const;

type MonitorErrorCodes = typeof MONITOR_ERROR_CODES;

declare module '@agentd/core' {
  interface AgentdErrorCodes extends MonitorErrorCodes {}
}
