/**
 * @module @agentd/core/failover
 * The failover built-in: its factory `failover()`, config schemas, the error classifier, circuit
 * breakers, budgets, retry policy, the executor, and the failover contracts and errors.
 */

export type { CircuitStateName } from '../contracts/events.js';
export type {
  AttemptRecord,
  ClassifiedError,
  ClassifierRule,
  ErrorClass,
  FailoverAction,
  FailoverPolicy,
} from '../contracts/failover.js';
export { FailoverPolicyToken } from '../contracts/failover.js';
export type { BudgetRefusal, SpendReport } from '../failover/budgets.js';
export { BudgetGuard, DEFAULT_RATE_LIMITS } from '../failover/budgets.js';
export type { CircuitOptions } from '../failover/circuits.js';
export { CircuitBoard, DEFAULT_CIRCUIT, FAILOVER_NAMESPACE } from '../failover/circuits.js';
export {
  DEFAULT_ACTIONS,
  ERROR_CLASSES,
  ErrorClassifier,
  parseRetryAfter,
} from '../failover/classifier.js';
export type { AgentErrorDetails } from '../failover/errors.js';
export {
  BudgetExceededError,
  EmptyResultError,
  FailoverExhaustedError,
  isEmptyOutput,
} from '../failover/errors.js';
export type { FailoverExecutorDeps, SessionRunner } from '../failover/executor.js';
export { FailoverExecutor } from '../failover/executor.js';
export type { FailoverPluginOptions } from '../failover/plugin.js';
export {
  BudgetGuardToken,
  FAILOVER_PLUGIN_NAME,
  failover,
  SessionRunnerToken,
  savedCircuits,
} from '../failover/plugin.js';
export type { RetrySettings } from '../failover/policy.js';
export { DEFAULT_RETRY, DefaultFailoverPolicy } from '../failover/policy.js';
export type { BudgetsConfig, FailoverConfig } from '../failover/schema.js';
export {
  budgetsConfigSchema,
  failoverConfigSchema,
  failoverConfigShape,
  normalizeChains,
  parseChain,
} from '../failover/schema.js';
export type { TurnHandoff } from '../runtime/turn-handoff.js';
