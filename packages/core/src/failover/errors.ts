import type { AttemptRecord, ErrorClass } from '../contracts/failover.js';
import { AgentdError } from '../kernel/errors.js';

/** Details an agent can attach to an {@link AgentError} so the classifier need not guess. */
export interface AgentErrorDetails {
  /** The class, when the agent knows it (an HTTP 429 is `rate_limit`). */
  errorClass?: ErrorClass;
  /** HTTP status of the failed call, if any. */
  status?: number;
  /** How long the provider asked us to wait (from `Retry-After`). */
  retryAfterMs?: number;
  /** The process exit code, for command agents. */
  exitCode?: number | null;
  cause?: unknown;
}

/**
 * An error raised by an agent with facts for the failover classifier: its class, HTTP status,
 * `Retry-After`. Agents of your own may throw it too; any other error is classified by its
 * message, name and `status`/`code` properties.
 *
 * @example
 * ```ts
 * if (res.status === 429) {
 *   throw new AgentError('rate limited by the provider', { status: 429, retryAfterMs: 20_000 });
 * }
 * ```
 */
export class AgentError extends Error {
  override name = 'AgentError';
  readonly errorClass: ErrorClass | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly exitCode: number | null | undefined;

  constructor(message: string, details: AgentErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.errorClass = details.errorClass;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.exitCode = details.exitCode;
  }
}

/**
 * An agent returned nothing (`null`, `''`, whitespace, `[]` or `{}`): a failure for failover.
 *
 * @example
 * ```ts
 * if (isEmptyOutput(result.output)) throw new EmptyResultError('writer');
 * ```
 */
export class EmptyResultError extends AgentError {
  override name = 'EmptyResultError';
  constructor(agent: string) {
    super(`agent "${agent}" returned an empty result`, { errorClass: 'empty_result' });
  }
}

/**
 * Every agent of a task's chain failed (or one failure said to give up). `attempts` is the full
 * history. `retryable` false tells the runner to fail the task for good; `retryAt` (when every
 * agent was only rate limited) tells it when to try again.
 *
 * @example
 * ```ts
 * host.events.on('task.failed', ({ task }) => console.log(task.error?.message)); // lists every attempt
 * ```
 */
export class FailoverExhaustedError extends AgentdError {
  override name = 'FailoverExhausted';
  constructor(
    message: string,
    readonly attempts: readonly AttemptRecord[],
    readonly retryable: boolean,
    readonly retryAt?: number,
  ) {
    super('E_FAILOVER_EXHAUSTED', message);
  }
}

/**
 * New work refused by a rate limit or a cost cap. Not retried: the message says why and until when.
 *
 * @example
 * ```ts
 * throw new BudgetExceededError('daily cost cap of $5.00 reached ($5.12 spent today)', 'cost:day');
 * ```
 */
export class BudgetExceededError extends AgentdError {
  override name = 'BudgetExceeded';
  readonly retryable = false;
  constructor(
    message: string,
    readonly limit: string,
  ) {
    super('E_BUDGET_EXCEEDED', message);
  }
}

/**
 * Whether an agent output counts as empty (a failure for failover).
 *
 * @example
 * ```ts
 * isEmptyOutput('  '); // true
 * isEmptyOutput({ answer: 42 }); // false
 * ```
 */
export function isEmptyOutput(output: unknown): boolean {
  if (output === null || output === undefined) return true;
  if (typeof output === 'string') return output.trim() === '';
  if (Array.isArray(output)) return output.length === 0;
  if (typeof output === 'object') return Object.keys(output).length === 0;
  return false;
}
