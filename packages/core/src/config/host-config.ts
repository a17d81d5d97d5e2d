import type { Agent } from '../contracts/agent.js';
import type { Clock } from '../contracts/clock.js';
import type { Logger, LogLevel } from '../contracts/logger.js';
import type { PluginOption } from '../kernel/plugin.js';

/** Limits for lifecycle phases, in milliseconds. */
export interface TimeoutsConfig {
  /** Per plugin `start` (default 30 000). */
  startMs?: number;
  /** Per plugin `stop` (default 10 000). */
  stopMs?: number;
  /** For all work in flight to finish once intake is closed (default 30 000). */
  drainMs?: number;
}

/** Options for the default logger, or a logger of your own. */
export type LoggerConfig = Logger | { level?: LogLevel | 'silent'; pretty?: boolean };

/**
 * The config keys the kernel itself reads. What users write is `HostConfig` (from
 * `@agentd/core`): these keys plus those of the built-in preset (`schedules`, `failover`,
 * `sessions`, `runner`, ...). A host created with other presets accepts their keys instead.
 *
 * @example
 * ```ts
 * import type { KernelConfig } from '@agentd/core/host';
 *
 * const bare: KernelConfig = { name: 'store-only', plugins: [] };
 * ```
 */
export interface KernelConfig {
  /** Shown in logs and status (default `agentd`). */
  name?: string;
  /** Plugins; falsy entries are skipped and nested arrays flattened. */
  plugins?: readonly PluginOption[];
  logger?: LoggerConfig;
  timeouts?: TimeoutsConfig;
  /** Where plugins keep files by default (default `.agentd` beside the config file). */
  dataDir?: string;
  /** Source of time; tests pass a manual clock. */
  clock?: Clock;
  /** Agents available to tasks (plugins may add more). */
  agents?: readonly Agent[];
  /** Agent for tasks that name none (default: the first agent). */
  defaultAgent?: string;
}
