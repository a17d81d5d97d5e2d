/**
 * @module @agentd/core/runner
 * The task runner built-in: its factory `runner()`, config schema, the `TaskRunner`, the default
 * task queue, the agent executor contract the runner routes runs through, and the failure
 * summaries it sends to users.
 */

export type { AgentExecutor, ExecuteContext } from '../contracts/agent.js';
export { AgentExecutorToken } from '../contracts/agent.js';
export { failureReply, failureSummary } from '../runtime/failure-summary.js';
export type { RunnerOptions } from '../runtime/runner.js';
export { DEFAULT_RUNNER_OPTIONS, TaskRunner } from '../runtime/runner.js';
export { RUNNER_PLUGIN_NAME, runner } from '../runtime/runner-plugin.js';
export type { RunnerConfig } from '../runtime/runner-schema.js';
export { runnerConfigSchema, runnerConfigShape } from '../runtime/runner-schema.js';
export { DefaultTaskQueue } from '../runtime/task-queue.js';
