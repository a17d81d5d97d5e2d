import type { Agent } from '../contracts/agent.js';
import type { Clock } from '../contracts/clock.js';
import type { Logger, LogLevel } from '../contracts/logger.js';
import type { BudgetsConfig, FailoverConfig } from '../failover/schema.js';
import type { PluginOption } from '../kernel/plugin.js';
import type { RunnerOptions } from '../runtime/runner.js';
import type { SchedulerConfig } from '../scheduler/schema.js';
import type { SessionsConfig } from '../sessions/plugin.js';

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
 * A host's configuration: what `agentd.config.ts` exports and `createHost` takes.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 *
 * export default defineConfig({
 *   name: 'my-host',
 *   plugins: [sqlite({ path: './data/agentd.db' }), process.env.TELEGRAM_TOKEN && telegram({})],
 * });
 * ```
 */
export interface HostConfig extends SchedulerConfig {
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
  /**
   * The task runner, added automatically when a store plugin is present: `{ concurrency: 3, ... }`,
   * or `false` for a host that only enqueues (another process runs the tasks).
   */
  runner?: Partial<RunnerOptions> | false;
  /** Failover chains, retries and error rules per agent (see docs/failover.md). */
  failover?: FailoverConfig;
  /** Per-user rate limits and cost caps (see docs/failover.md). */
  budgets?: BudgetsConfig;
  /** Named sessions per user with idle suspend and resume (default on); `false` turns them off. */
  sessions?: SessionsConfig | false;
}

/**
 * Identity function that gives `agentd.config.ts` full type checking and completion.
 *
 * @example
 * ```ts
 * // agentd.config.ts
 * import { defineConfig } from '@agentd/core';
 * export default defineConfig({ name: 'home-bot', plugins: [] });
 * ```
 */
export function defineConfig(config: HostConfig): HostConfig {
  return config;
}
