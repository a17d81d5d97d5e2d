import { AgentExecutorToken, AgentRegistryToken } from '../contracts/agent.js';
import { AnswersToken, ChannelRegistryToken } from '../contracts/channel.js';
import { HealthRegistryToken, type HealthResult } from '../contracts/health.js';
import { SessionStoreToken } from '../contracts/session.js';
import { TaskQueueToken, TaskStoreToken } from '../contracts/task.js';
import { HostInfoToken } from '../kernel/host-info.js';
import type { Plugin } from '../kernel/plugin.js';
import { errorMessage } from '../kernel/timeout.js';
import { IntakeGateToken } from '../kernel/tokens.js';
import { SecretMaskerToken } from '../logging/secret-masker.js';
import { ReplyOutbox } from './reply-outbox.js';
import { type RunnerOptions, TaskRunner } from './runner.js';
import { DefaultTaskQueue } from './task-queue.js';

/** Name of the built-in runner plugin (reserved). */
export const RUNNER_PLUGIN_NAME = 'runner';

/**
 * The built-in plugin that runs tasks. The built-in preset adds it when a store plugin provides a
 * TaskStore (unless the config says `runner: false`), so users configure it, not install it.
 * It provides the {@link TaskQueueToken}, recovers expired leases at start, and claims work only
 * after every plugin has started. With `false` it provides the queue but runs nothing: the host
 * only enqueues, and another host on the same store runs the tasks.
 */
export function runner(options: Partial<RunnerOptions> | false = {}): Plugin {
  let taskRunner: TaskRunner | undefined;
  let outbox: ReplyOutbox | undefined;
  let offHeartbeat: (() => void) | undefined;
  return {
    name: RUNNER_PLUGIN_NAME,
    dependsOn: [TaskStoreToken],
    // The executor (failover, sessions, budgets) is optional: when there is one, it has started
    // (circuits loaded, sessions recovered) before the runner takes it in start.
    after: [AgentExecutorToken],
    provides: [TaskQueueToken, AnswersToken],
    register(ctx) {
      const store = ctx.resolve(TaskStoreToken);
      const agents = ctx.resolve(AgentRegistryToken);
      ctx.provide(
        TaskQueueToken,
        new DefaultTaskQueue(store, agents, ctx.events, ctx.clock, () => taskRunner),
      );
      const channels = ctx.resolve(ChannelRegistryToken);
      // Channels' immediate answers share the task replies' outbox (and its retries).
      outbox = new ReplyOutbox({
        store,
        channels,
        events: ctx.events,
        clock: ctx.clock,
        logger: ctx.logger,
      });
      ctx.provide(AnswersToken, outbox);
      ctx.resolve(HealthRegistryToken).add({
        name: 'dead-letters',
        // The store's own checks report a failing store; this one only counts.
        check: async () => {
          try {
            return deadLetterHealth(await store.countOpenDeadLetters?.());
          } catch (err) {
            return { status: 'warn', output: `could not count dead letters: ${errorMessage(err)}` };
          }
        },
      });
      if (options === false) return;
      taskRunner = new TaskRunner(
        {
          store,
          agents,
          channels,
          events: ctx.events,
          logger: ctx.logger,
          clock: ctx.clock,
          owner: ctx.resolve(HostInfoToken).instanceId,
          masker: ctx.tryResolve(SecretMaskerToken),
          outbox,
          sessions: ctx.tryResolve(SessionStoreToken),
        },
        options,
      );
      // The scheduler's heartbeat wakes the runner (a no-op until it runs, and after it stops).
      offHeartbeat = ctx.events.on('heartbeat', () => taskRunner?.notify());
      ctx.resolve(HealthRegistryToken).add({
        name: 'runner',
        check: () => ({
          status: 'pass',
          observedValue: taskRunner?.active ?? 0,
          observedUnit: 'running tasks',
        }),
      });
    },
    async start(ctx) {
      if (!taskRunner) return;
      // Every plugin has registered by now: an executor (failover, sessions, budgets) is known.
      taskRunner.setExecutor(ctx.tryResolve(AgentExecutorToken));
      await taskRunner.recover();
      // The readiness barrier: claim nothing until every plugin (every channel, every agent) is up.
      ctx
        .resolve(IntakeGateToken)
        .whenOpen()
        .then(
          () => taskRunner?.start(),
          () => {},
        );
    },
    drain: (_ctx, signal) => taskRunner?.drain(signal),
    stop: async () => {
      offHeartbeat?.();
      await taskRunner?.stop();
      outbox?.stop();
    },
  };
}

/** `/health`: open dead letters warn (an operator should look), they never fail the host. */
function deadLetterHealth(open: number | undefined): HealthResult {
  if (open === undefined) return { status: 'pass', output: 'this store keeps no dead letters' };
  if (open === 0) return { status: 'pass', observedValue: 0, observedUnit: 'open dead letters' };
  return {
    status: 'warn',
    observedValue: open,
    observedUnit: 'open dead letters',
    output: `${open} input(s) could not be taken and wait for review: agentd dead-letters`,
  };
}
