import type {
  AttemptRecord,
  ClassifiedError,
  ClassifierRule,
  ErrorClass,
  FailoverAction,
  FailoverPolicy,
} from '../contracts/failover.js';
import { CircuitBoard, type CircuitOptions, DEFAULT_CIRCUIT } from './circuits.js';
import { ErrorClassifier } from './classifier.js';
import { type FailoverConfig, normalizeChains } from './schema.js';

/** Retries and backoff for one agent. */
export interface RetrySettings {
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Default in-process retries of one agent: none (the runner retries the task durably, with
 * backoff, up to its maxAttempts); when set, 500 ms doubling up to 30 s between them.
 *
 * @example
 * ```ts
 * const { retries } = DEFAULT_RETRY; // 0: the runner's durable retries are the default
 * ```
 */
export const DEFAULT_RETRY: RetrySettings = { retries: 0, initialDelayMs: 500, maxDelayMs: 30_000 };

/**
 * The default {@link FailoverPolicy}: the error classifier, chains from config, per-agent retry
 * settings, cockatiel circuit breakers per agent and Retry-After cool-downs.
 *
 * @example
 * ```ts
 * const policy = new DefaultFailoverPolicy({ chains: ['research -> reasoning -> executor'] });
 * policy.chainFor('research'); // ['research', 'reasoning', 'executor']
 * ```
 */
export class DefaultFailoverPolicy implements FailoverPolicy {
  readonly classifier: ErrorClassifier;
  readonly circuits: CircuitBoard;
  readonly #chains: Record<string, string[]>;
  readonly #coolDown = new Map<string, number>();
  readonly #lastFailure = new Map<string, ClassifiedError>();
  readonly #config: FailoverConfig;
  readonly #now: () => number;

  constructor(
    config: FailoverConfig = {},
    deps: { circuits?: CircuitBoard; now?: () => number } = {},
  ) {
    this.#config = config;
    this.#chains = normalizeChains(config.chains);
    this.#now = deps.now ?? Date.now;
    this.classifier = new ErrorClassifier(
      (config.rules ?? []) as ClassifierRule[],
      (config.actions ?? {}) as Partial<Record<ErrorClass, FailoverAction>>,
    );
    const perAgent: Record<string, Partial<CircuitOptions>> = {};
    for (const [name, a] of Object.entries(config.agents ?? {})) {
      if (a.circuit) perAgent[name] = a.circuit;
    }
    this.circuits =
      deps.circuits ??
      new CircuitBoard({ ...DEFAULT_CIRCUIT, ...config.circuit }, perAgent, {
        counts: (e) => this.countsAgainstCircuit(e),
      });
  }

  classify(error: unknown): ClassifiedError {
    return this.classifier.classify(error);
  }

  chainFor(agent: string): readonly string[] {
    const rest = this.#chains[agent] ?? [];
    return rest.length === 0 ? [agent] : [agent, ...rest.filter((a) => a !== agent)];
  }

  isAvailable(agent: string): boolean {
    const until = this.#coolDown.get(agent);
    if (until !== undefined && until > this.#now()) return false;
    return this.circuits.isAvailable(agent);
  }

  /**
   * The last failure of `agent` since its last success: why its circuit opened or why it
   * cools down, so a skipped attempt can name the root cause.
   */
  lastFailure(agent: string): ClassifiedError | undefined {
    return this.#lastFailure.get(agent);
  }

  /** When a skipped agent can be called again (cool-down end or half-open time). */
  availableAt(agent: string): number | undefined {
    const until = this.#coolDown.get(agent);
    const reopens = this.circuits.reopensAt(agent);
    const times = [until, reopens].filter((t): t is number => t !== undefined && t > this.#now());
    return times.length ? Math.max(...times) : undefined;
  }

  record(attempt: AttemptRecord): void {
    if (attempt.outcome === 'success') {
      this.#coolDown.delete(attempt.agent);
      this.#lastFailure.delete(attempt.agent);
      return;
    }
    this.#lastFailure.set(attempt.agent, attempt.outcome);
    const { retryAfterMs } = attempt.outcome;
    if (attempt.outcome.class === 'rate_limit' && retryAfterMs !== undefined) {
      // Honour Retry-After for every task, not just this one: skip the agent until then.
      this.#coolDown.set(attempt.agent, attempt.finishedAt + retryAfterMs);
    }
  }

  /** Retries and backoff for `agent`, with per-agent overrides. */
  retrySettings(agent: string): RetrySettings {
    const own = this.#config.agents?.[agent];
    return {
      retries: own?.retries ?? this.#config.retries ?? DEFAULT_RETRY.retries,
      initialDelayMs:
        own?.backoff?.initialDelayMs ??
        this.#config.backoff?.initialDelayMs ??
        DEFAULT_RETRY.initialDelayMs,
      maxDelayMs:
        own?.backoff?.maxDelayMs ?? this.#config.backoff?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
    };
  }

  /** Longest Retry-After to wait for in-chain before moving on (default 60 s). */
  get maxRetryAfterMs(): number {
    return this.#config.maxRetryAfterMs ?? 60_000;
  }

  get alertOnExhaustion(): boolean {
    return this.#config.alertOnExhaustion ?? true;
  }

  /** A refusal of content is the user's request, not the agent's health: it does not open circuits. */
  countsAgainstCircuit(error: unknown): boolean {
    return this.classify(error).class !== 'content_filter';
  }
}
