import type { JsonValue } from '../contracts/json.js';
import type { ClaimRequest, TaskError, TaskStatus } from '../contracts/task.js';
import { AgentdError } from '../kernel/errors.js';
import { toJsonText } from './json-text.js';
import { checkTaskTime } from './new-task.js';

// Checks every store applies to the calls after enqueue (claims, completions, failures), kept
// with prepareNewTask so that two stores cannot drift apart on them.

/**
 * Checks what a claim (of tasks, or of replies) asks for and returns its limit: `limit` an
 * integer ≥ 1, `leaseMs` a positive number. Throws `E_INVALID_CLAIM`.
 *
 * @example
 * ```ts
 * const limit = checkClaimLimit(request.limit ?? 1, request.leaseMs);
 * ```
 */
export function checkClaimLimit(limit: number, leaseMs: number): number {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new AgentdError(
      'E_INVALID_CLAIM',
      `limit must be an integer of at least 1, got ${limit}`,
    );
  }
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
    throw new AgentdError('E_INVALID_CLAIM', `leaseMs must be a positive number, got ${leaseMs}`);
  }
  return limit;
}

/**
 * Checks a claim's owner (a non-empty string) and returns it. Throws `E_INVALID_CLAIM`.
 *
 * @example
 * ```ts
 * const owner = checkClaimOwner(request.owner);
 * ```
 */
export function checkClaimOwner(owner: ClaimRequest['owner'] | unknown): string {
  if (typeof owner !== 'string' || owner === '') {
    throw new AgentdError('E_INVALID_CLAIM', 'owner must be a non-empty string');
  }
  return owner;
}

/**
 * A task result as stored JSON text, or null for no result. Throws `E_INVALID_RESULT` for a
 * value JSON cannot hold.
 *
 * @example
 * ```ts
 * taskResultText({ answer: 42 }); // '{"answer":42}'
 * taskResultText(null); // null
 * ```
 */
export function taskResultText(result: JsonValue | null | undefined): string | null {
  return result === null || result === undefined
    ? null
    : toJsonText(result, 'result', 'E_INVALID_RESULT');
}

/**
 * Whether a completion with this result (as stored JSON text) owes the task's `replyTo` a
 * reply: any result but null and the empty string.
 *
 * @example
 * ```ts
 * resultOwesReply('"done"'); // true
 * resultOwesReply('""'); // false
 * ```
 */
export const resultOwesReply = (result: string | null): boolean =>
  result !== null && result !== '""';

/**
 * A failed attempt's error as stored JSON text. Recording a failure must not fail itself, so a
 * malformed error is coerced (`name` defaults to `Error`), never rejected.
 *
 * @example
 * ```ts
 * taskErrorText({ name: 'TimeoutError', message: 'agent timed out' });
 * ```
 */
export function taskErrorText(error: TaskError): string {
  const e = error as Partial<TaskError> | null | undefined;
  return JSON.stringify({
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(e?.message ?? error),
  });
}

/**
 * The error lease recovery records on a task whose runner is gone: `LeaseExpired` when its
 * lease ran out by `now`, `RunnerGone` when its owner was named gone before that.
 *
 * @example
 * ```ts
 * recoveryError('host:1:a', true); // { name: 'LeaseExpired', message: 'the lease of host:1:a expired ...' }
 * ```
 */
export function recoveryError(owner: string | null, expired: boolean): TaskError {
  return expired
    ? {
        name: 'LeaseExpired',
        message: `the lease of ${owner ?? '?'} expired before the task finished (runner crashed or stalled)`,
      }
    : {
        name: 'RunnerGone',
        message: `the process holding the lease (${owner}) is gone (killed or crashed) and the task did not finish`,
      };
}

/** The statuses `prune` may delete: a task in any other state is still someone's work. */
const PRUNABLE: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

/** A `prune` call's options, checked: what a store deletes. */
export interface PrunePlan {
  /** The final statuses asked for, each once. */
  statuses: ('completed' | 'failed' | 'cancelled')[];
  /** At most this many tasks (default 1000). */
  limit: number;
  /** Tasks that finished before this time (epoch ms). */
  before: number;
}

/**
 * Checks a `prune` call: keeps only final statuses (undefined when none is left: nothing to
 * delete), `limit` an integer ≥ 1 (`E_INVALID_PRUNE`), `before` a time (`E_INVALID_TASK`).
 *
 * @example
 * ```ts
 * const plan = preparePrune(options);
 * if (!plan) return 0;
 * ```
 */
export function preparePrune(options: {
  before: number;
  statuses: readonly ('completed' | 'failed' | 'cancelled')[];
  limit?: number;
}): PrunePlan | undefined {
  const statuses = [...new Set(options.statuses.filter((s) => PRUNABLE.has(s)))];
  if (statuses.length === 0) return undefined;
  const limit = options.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new AgentdError(
      'E_INVALID_PRUNE',
      `limit must be an integer of at least 1, got ${limit}`,
    );
  }
  return { statuses, limit, before: checkTaskTime(options.before, 'before') };
}

/**
 * The refusal of the store's `hold` for a task that is not pending or held: every store
 * refuses with the same code and words.
 *
 * @example
 * ```ts
 * if (status !== 'pending' && status !== 'held') throw notHoldable(id, status);
 * ```
 */
export function notHoldable(id: string, status: TaskStatus): AgentdError {
  return new AgentdError(
    'E_TASK_NOT_HOLDABLE',
    `task ${id} is ${status}: only a pending task can be held`,
  );
}

/**
 * The refusal of the store's `release` for a task that is not held or pending.
 *
 * @example
 * ```ts
 * if (status !== 'pending' && status !== 'held') throw notReleasable(id, status);
 * ```
 */
export function notReleasable(id: string, status: TaskStatus): AgentdError {
  return new AgentdError(
    'E_TASK_NOT_HELD',
    `task ${id} is ${status}: only a held task can be released`,
  );
}
