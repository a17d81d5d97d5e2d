import { createToken } from '../kernel/token.js';

/** Why an agent run failed, as the error classifier sees it. */
export type ErrorClass =
  | 'rate_limit'
  | 'auth'
  | 'content_filter'
  | 'timeout'
  | 'tool_failure'
  | 'model_error'
  | 'api_error'
  | 'empty_result'
  | 'unknown';

/** What to do after a failure: try the same agent again, move to the next in the chain, or stop. */
export type FailoverAction = 'retry' | 'failover' | 'give_up';

/** An error with its class and the action it calls for. */
export interface ClassifiedError {
  class: ErrorClass;
  action: FailoverAction;
  message: string;
  /** Wait at least this long before the next call to the same agent (Retry-After). */
  retryAfterMs?: number;
}

/** One attempt in a failover run, kept in the task's error history. */
export interface AttemptRecord {
  agent: string;
  startedAt: number;
  finishedAt: number;
  outcome: 'success' | ClassifiedError;
}

/** A user rule for the classifier, tried before the built-in ones. */
export interface ClassifierRule {
  /** Matches when the error's message or name matches, or the predicate returns true. */
  match: RegExp | ((error: unknown) => boolean);
  class: ErrorClass;
  action?: FailoverAction;
}

/**
 * Decides how a task survives agent failures: classification, the chain of agents to try, and
 * whether an agent is currently skipped (open circuit, budget exhausted).
 */
export interface FailoverPolicy {
  classify(error: unknown): ClassifiedError;
  /** Agents to try for a task aimed at `agent`, the agent itself first. */
  chainFor(agent: string): readonly string[];
  /** False while the agent's circuit is open. */
  isAvailable(agent: string): boolean;
  /** Feeds an attempt's outcome back (circuit breakers, statistics). */
  record(attempt: AttemptRecord): void;
}

export const FailoverPolicyToken = createToken<FailoverPolicy>('agentd.failover');
