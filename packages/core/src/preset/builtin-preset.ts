import { ChatCommandsToken } from '../chat-commands/access.js';
import { chatCommands } from '../chat-commands/plugin.js';
import { type CommandsConfig, commandsConfigShape } from '../chat-commands/schema.js';
import { AgentExecutorToken } from '../contracts/agent.js';
import { NotifierToken } from '../contracts/notifier.js';
import { RolesToken } from '../contracts/roles.js';
import { SchedulerToken } from '../contracts/scheduler.js';
import { SessionStoreToken } from '../contracts/session.js';
import { StateStoreToken } from '../contracts/state.js';
import { TaskQueueToken, TaskStoreToken } from '../contracts/task.js';
import { failover } from '../failover/plugin.js';
import {
  type BudgetsConfig,
  type FailoverConfig,
  failoverConfigShape,
} from '../failover/schema.js';
import type { Plugin } from '../kernel/plugin.js';
import { definePreset } from '../kernel/preset.js';
import { notifier } from '../notifier/notifier.js';
import { type NotificationsConfig, notificationsConfigShape } from '../notifier/routes-schema.js';
import { type RolesConfig, roles, rolesConfigShape } from '../roles/plugin.js';
import { runner } from '../runtime/runner-plugin.js';
import { type RunnerConfig, runnerConfigShape } from '../runtime/runner-schema.js';
import { scheduler } from '../scheduler/scheduler-plugin.js';
import { type SchedulerConfig, schedulerConfigShape } from '../scheduler/schema.js';
import { SessionManagerToken } from '../sessions/manager.js';
import { type SessionsConfig, sessions, sessionsConfigShape } from '../sessions/plugin.js';

/**
 * The config keys of agentd's built-ins, kept at the top level of the config as sugar for the
 * built-in plugins' options (see docs/architecture.md, "Decisions and why").
 */
export interface BuiltinConfig extends SchedulerConfig {
  /**
   * The task runner, added automatically when a store plugin is present: `{ concurrency: 3, ... }`,
   * or `false` for a host that only enqueues (another process runs the tasks).
   */
  runner?: RunnerConfig;
  /** Failover chains, retries and error rules per agent (see docs/failover.md). */
  failover?: FailoverConfig;
  /** Per-user rate limits and cost caps (see docs/failover.md). */
  budgets?: BudgetsConfig;
  /** Named sessions per user with idle suspend and resume (default on); `false` turns them off. */
  sessions?: SessionsConfig | false;
  /**
   * Roles held by one host at a time (see docs/roles.md), on by default with a store:
   * `{ leaseSeconds: 15 }`, or `false` to turn them off.
   */
  roles?: RolesConfig;
  /**
   * The built-in chat commands (`/help`, `/status`, `/tasks`, `/task`, `/cancel`, `/remind`...,
   * on by default): who the operators are, what an unknown command gets; `false` turns them off.
   */
  commands?: CommandsConfig | false;
  /**
   * Where alerts and notices go: routes by severity and source to channels, signed webhooks
   * and the log, with quiet hours and cooldowns (see docs/notifications.md).
   */
  notifications?: NotificationsConfig;
}

/**
 * agentd's built-ins as a preset: each built-in owns its config schema, and this preset adds
 * the built-in plugins the config asks for: the chat commands (unless `commands: false`); the task runner (and queue) whenever a plugin
 * provides a TaskStore; failover and sessions (on by default with a store); a notifier unless a
 * plugin provides one; roles held by one host at a time whenever a plugin provides a StateStore;
 * and the scheduler when the config has schedules, a heartbeat or reminders. A plugin in the config that provides the same service replaces the built-in.
 * `createHost` applies it by default.
 *
 * @example
 * ```ts
 * import { builtinPreset, createKernelHost } from '@agentd/core/host';
 *
 * // What createHost(config) does:
 * const host = createKernelHost(config, { presets: [builtinPreset] });
 * ```
 */
export const builtinPreset = definePreset({
  name: 'agentd',
  config: {
    ...schedulerConfigShape,
    ...failoverConfigShape,
    ...sessionsConfigShape,
    ...runnerConfigShape,
    ...rolesConfigShape,
    ...commandsConfigShape,
    ...notificationsConfigShape,
  },
  resolvePlugins(settings, { provided }) {
    const plugins: Plugin[] = [];
    if (settings.commands !== false && !provided(ChatCommandsToken)) {
      plugins.push(
        chatCommands({
          ...((settings.commands as CommandsConfig | undefined) ?? {}),
          ...(settings.timezone !== undefined && { timezone: settings.timezone }),
        }),
      );
    }
    if (provided(TaskStoreToken) && !provided(TaskQueueToken)) {
      plugins.push(runner((settings.runner as RunnerConfig | undefined) ?? {}));
    }
    const wantSessions =
      settings.sessions !== false && provided(SessionStoreToken) && !provided(SessionManagerToken);
    if (
      provided(TaskStoreToken) &&
      !provided(AgentExecutorToken) &&
      (settings.failover || settings.budgets || wantSessions)
    ) {
      plugins.push(
        failover({
          failover: settings.failover as FailoverConfig | undefined,
          budgets: settings.budgets as BudgetsConfig | undefined,
        }),
      );
    }
    if (wantSessions) plugins.push(sessions((settings.sessions as SessionsConfig) || {}));
    if (!provided(NotifierToken)) {
      const routes = (settings.notifications as { routes?: NotificationsConfig['routes'] })?.routes;
      plugins.push(
        notifier({
          ...(routes && { routes }),
          ...(settings.timezone !== undefined && { timezone: settings.timezone as string }),
        }),
      );
    }
    if (settings.roles !== false && provided(StateStoreToken) && !provided(RolesToken)) {
      plugins.push(roles((settings.roles as RolesConfig) || {}));
    }
    if (
      (settings.schedules || settings.heartbeat || settings.reminders) &&
      !provided(SchedulerToken)
    ) {
      // The schemas' output (durations in ms, priorities as numbers) is valid input again.
      plugins.push(
        scheduler({
          timezone: settings.timezone,
          schedules: settings.schedules,
          heartbeat: settings.heartbeat,
          reminders: settings.reminders,
        } as SchedulerConfig),
      );
    }
    return plugins;
  },
});
