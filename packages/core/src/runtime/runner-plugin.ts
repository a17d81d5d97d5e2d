import { AgentExecutorToken, AgentRegistryToken } from '../contracts/agent.js';
import { ChannelRegistryToken } from '../contracts/channel.js';
import { HealthRegistryToken } from '../contracts/health.js';
import { TaskQueueToken, TaskStoreToken } from '../contracts/task.js';
import { HostInfoToken } from '../kernel/host-info.js';
import type { Plugin } from '../kernel/plugin.js';
import { IntakeGateToken } from '../kernel/tokens.js';
import { SecretMaskerToken } from '../logging/secret-masker.js';
import { type RunnerOptions, TaskRunner } from './runner.js';
import { DefaultTaskQueue } from './task-queue.js';

/** Name of the built-in runner plugin (reserved). */
export const RUNNER_PLUGIN_NAME = 'runner';

/**
 * The built-in plugin that runs tasks. The host adds it by itself when a store plugin provides a
 * TaskStore (unless the config says `runner: false`), so users configure it, not install it.
 * It provides the {@link TaskQueueToken}, recovers expired leases at start, and claims work only
 * after every plugin has started. With `false` it provides the queue but runs nothing: the host
 * only enqueues, and another host on the same store runs the tasks.
 */
export function runnerPlugin(options: Partial<RunnerOptions> | false = {}): Plugin {
  let runner: TaskRunner | undefined;
  let offHeartbeat: (() => void) | undefined;
  return {
    name: RUNNER_PLUGIN_NAME,
    dependsOn: [TaskStoreToken],
    provides: [TaskQueueToken],
    register(ctx) {
      const store = ctx.resolve(TaskStoreToken);
      const agents = ctx.resolve(AgentRegistryToken);
      ctx.provide(
        TaskQueueToken,
        new DefaultTaskQueue(store, agents, ctx.events, ctx.clock, () => runner),
      );
      if (options === false) return;
      runner = new TaskRunner(
        {
          store,
          agents,
          channels: ctx.resolve(ChannelRegistryToken),
          events: ctx.events,
          logger: ctx.logger,
          clock: ctx.clock,
          owner: ctx.resolve(HostInfoToken).instanceId,
          masker: ctx.tryResolve(SecretMaskerToken),
        },
        options,
      );
      // The scheduler's heartbeat wakes the runner (a no-op until it runs, and after it stops).
      offHeartbeat = ctx.events.on('heartbeat', () => runner?.notify());
      ctx.resolve(HealthRegistryToken).add({
        name: 'runner',
        check: () => ({
          status: 'pass',
          observedValue: runner?.active ?? 0,
          observedUnit: 'running tasks',
        }),
      });
    },
    async start(ctx) {
      if (!runner) return;
      // Every plugin has registered by now: an executor (failover, sessions, budgets) is known.
      runner.setExecutor(ctx.tryResolve(AgentExecutorToken));
      await runner.recover();
      // The readiness barrier: claim nothing until every plugin (every channel, every agent) is up.
      ctx
        .resolve(IntakeGateToken)
        .whenOpen()
        .then(
          () => runner?.start(),
          () => {},
        );
    },
    drain: (_ctx, signal) => runner?.drain(signal),
    stop: () => {
      offHeartbeat?.();
      return runner?.stop();
    },
  };
}
