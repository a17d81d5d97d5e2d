import { formatPath, issueLine } from '../config/issues.js';
import { AgentRegistryToken } from '../contracts/agent.js';
import { HealthRegistryToken } from '../contracts/health.js';
import { SchedulerToken } from '../contracts/scheduler.js';
import { StateStoreToken } from '../contracts/state.js';
import { TaskQueueToken, TaskStoreToken } from '../contracts/task.js';
import { ConfigError } from '../kernel/errors.js';
import type { Plugin } from '../kernel/plugin.js';
import { IntakeGateToken } from '../kernel/tokens.js';
import { DefaultScheduler } from './scheduler.js';
import {
  HEARTBEAT_SCHEDULE,
  type SchedulerConfig,
  type SchedulerOptions,
  schedulerOptionsSchema,
} from './schema.js';

/**
 * Name of the built-in scheduler plugin (reserved).
 *
 * @example
 * ```ts
 * const mine = checked.order.includes(SCHEDULER_PLUGIN_NAME);
 * ```
 */
export const SCHEDULER_PLUGIN_NAME = 'scheduler';

/**
 * The built-in plugin that runs schedules, the heartbeat and config reminders. It provides the
 * {@link SchedulerToken} (other plugins `add()` their own schedules in `register` or `start`),
 * validates its options when the config is checked (bad cron expressions, unknown time zones and
 * reminder texts are reported as `plugins[n].schedules[0].cron: ...`), refuses unknown agents
 * at start, and fires nothing before every plugin has started (the readiness barrier). Then it
 * catches up slots missed while the host was down, per each schedule's missed-run policy.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { scheduler } from '@agentd/core/scheduler';
 * import { sqlite } from '@agentd/store-sqlite';
 *
 * export default defineConfig({
 *   agents: [writer, checker, cheap],
 *   plugins: [
 *     sqlite(),
 *     scheduler({
 *       timezone: 'Europe/Berlin',
 *       schedules: [
 *         { name: 'daily-report', cron: '0 8 * * *', task: { agent: 'writer', input: 'Write the daily report' } },
 *         { name: 'hourly-health', cron: '0 * * * *', missed: 'skip', task: { agent: 'checker', input: 'Check health' } },
 *       ],
 *       heartbeat: { everyMs: '30s', task: { agent: 'cheap', input: 'Anything to do?', everyMs: '30m' } },
 *     }),
 *   ],
 * });
 * ```
 */
export function scheduler(options: SchedulerConfig = {}): Plugin<SchedulerOptions> {
  let instance: DefaultScheduler | undefined;
  let resolved: SchedulerOptions | undefined;
  return {
    name: SCHEDULER_PLUGIN_NAME,
    dependsOn: [TaskQueueToken, StateStoreToken],
    // Fetched with tryResolve in register (to find slots already enqueued): provided by then.
    after: [TaskStoreToken],
    provides: [SchedulerToken],
    optionsSchema: schedulerOptionsSchema,
    options,
    register(ctx) {
      resolved = ctx.options ?? resolveOwnOptions(options);
      const o = resolved;
      instance = new DefaultScheduler(
        {
          state: ctx.resolve(StateStoreToken),
          queue: ctx.resolve(TaskQueueToken),
          tasks: ctx.tryResolve(TaskStoreToken),
          agents: ctx.resolve(AgentRegistryToken),
          events: ctx.events,
          logger: ctx.logger,
          clock: ctx.clock,
        },
        { timezone: o.timezone, graceMs: o.graceMs },
      );
      for (const definition of o.schedules) instance.add(definition);
      if (o.heartbeat?.task) {
        const { everyMs, ...task } = o.heartbeat.task;
        // A stale heartbeat task is worthless: after downtime the next beat comes soon enough.
        instance.add({
          name: HEARTBEAT_SCHEDULE,
          every: everyMs ?? o.heartbeat.everyMs,
          task: { type: 'heartbeat', ...task },
          missed: 'skip',
          overlap: 'skip',
        });
      }
      ctx.provide(SchedulerToken, instance);
      const s = instance;
      ctx.resolve(HealthRegistryToken).add({
        name: 'scheduler',
        check: () => {
          const failing = s.failing;
          return failing.length === 0
            ? { status: 'pass' }
            : { status: 'warn', output: `failing to fire (retrying): ${failing.join(', ')}` };
        },
      });
    },
    start(ctx) {
      const s = instance!;
      // Every plugin has registered its agents by now: a schedule naming a missing one fails the start.
      s.checkAgents();
      const o = resolved!;
      ctx
        .resolve(IntakeGateToken)
        .whenOpen()
        .then(
          async () => {
            // Config reminders first: the scheduler counts as started (`settled()`) once they
            // are stored too, and their idempotency keys keep them once across restarts.
            for (const r of o.reminders) {
              await s.scheduleReminder(r.name, r.at, r.task).catch((err: unknown) => {
                ctx.logger.error(
                  { err, reminder: r.name },
                  `reminder "${r.name}" could not be enqueued`,
                );
              });
            }
            await s.start();
            if (o.heartbeat) s.startHeartbeat(o.heartbeat.everyMs);
          },
          () => {
            // The host stopped before it was ready: nothing to fire.
          },
        )
        .catch((err: unknown) => ctx.logger.error({ err }, 'the scheduler failed to start'));
    },
    drain: (_ctx, signal) => instance?.drain(signal),
    stop: () => instance?.stop(),
  };
}

/**
 * The built-in preset, adding this plugin from top-level config keys, may pass no validated
 * options; then the factory's own are validated here, with the same messages.
 */
function resolveOwnOptions(options: SchedulerConfig): SchedulerOptions {
  const result = schedulerOptionsSchema.safeParse(options);
  if (result.success) return result.data;
  throw new ConfigError(
    'invalid scheduler options',
    result.error.issues.map((i) => issueLine(formatPath(i.path), i.message)),
  );
}
