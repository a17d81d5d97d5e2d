import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  IsolatedCircuitError,
} from 'cockatiel';
import type { CircuitStateName } from '../contracts/events.js';
import type { JsonValue } from '../contracts/json.js';
import type { Logger } from '../contracts/logger.js';
import type { StateStore } from '../contracts/state.js';

/**
 * An agent's failure that came of the host ending the run (a cancel, a stop, the task's timeout
 * reached by the runner): the signal it gave the agent aborted, and the agent's request failed
 * because of it. It says nothing of the provider, so it never counts against the agent's
 * circuit. The executor wraps such a failure in this inside the circuit's call and unwraps it
 * outside, so the runner still sees the agent's own error.
 *
 * @example
 * ```ts
 * await circuits.execute('claude', async () => {
 *   try {
 *     return await agent.run(input, ctx);
 *   } catch (err) {
 *     throw ctx.signal.aborted ? new EndedByHost(err) : err;
 *   }
 * });
 * ```
 */
export class EndedByHost extends Error {
  constructor(readonly error: unknown) {
    super('the run was ended by the host', { cause: error });
    this.name = 'EndedByHost';
  }
}

/** When an agent's circuit opens and how long it stays open. */
export interface CircuitOptions {
  /** Consecutive failures that open the circuit (default 5). */
  threshold: number;
  /** Time the circuit stays open before one trial call is let through (default 30 s). */
  halfOpenAfterMs: number;
}

/**
 * Defaults of {@link CircuitOptions}.
 *
 * @example
 * ```ts
 * const board = new CircuitBoard({ ...DEFAULT_CIRCUIT, threshold: 3 });
 * ```
 */
export const DEFAULT_CIRCUIT: CircuitOptions = { threshold: 5, halfOpenAfterMs: 30_000 };

/**
 * StateStore namespace of the failover layer (circuits, attempt histories).
 *
 * @example
 * ```ts
 * await state.list(FAILOVER_NAMESPACE, 'circuit:');
 * ```
 */
export const FAILOVER_NAMESPACE = 'failover';

const NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/** Thrown by {@link CircuitBoard.execute} for a call the open circuit refused. */
export function isCircuitRefusal(error: unknown): boolean {
  return error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError;
}

interface Entry {
  policy: CircuitBreakerPolicy;
  halfOpenAfterMs: number;
}

/**
 * One cockatiel circuit breaker per agent. An agent that keeps failing is skipped until its
 * circuit half-opens; one trial call then closes it again (or re-opens it). States are saved in
 * the StateStore on every change and restored at start, so a restart does not hammer an agent
 * whose circuit was open.
 *
 * @example
 * ```ts
 * const board = new CircuitBoard(DEFAULT_CIRCUIT, {}, { state, logger });
 * await board.load();
 * const result = await board.execute('writer', () => writer.run(input, ctx), (e) => true);
 * ```
 */
export class CircuitBoard {
  readonly #entries = new Map<string, Entry>();
  readonly #saved = new Map<string, JsonValue>();
  #saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly defaults: CircuitOptions,
    private readonly perAgent: Readonly<Record<string, Partial<CircuitOptions>>> = {},
    private readonly deps: {
      state?: StateStore;
      logger?: Logger;
      onChange?: (agent: string, state: CircuitStateName) => void;
      /** Which failures count against the circuit (default: all). */
      counts?: (error: unknown) => boolean;
    } = {},
  ) {}

  /** Reads saved states; call before the first `execute`. */
  async load(): Promise<void> {
    if (!this.deps.state) return;
    for (const { key, value } of await this.deps.state.list(FAILOVER_NAMESPACE, 'circuit:')) {
      this.#saved.set(key.slice('circuit:'.length), value);
    }
  }

  /** Runs `fn` through the agent's circuit; rejects with a circuit error while it is open. */
  execute<T>(agent: string, fn: () => Promise<T>): Promise<T> {
    return this.#entry(agent).policy.execute(fn);
  }

  /** The agent's circuit state; an open circuit past its wait reports `half-open`. */
  state(agent: string, now = Date.now()): CircuitStateName {
    const entry = this.#entries.get(agent) ?? this.#entry(agent);
    const state = entry.policy.state;
    if (state === CircuitState.Open && this.#openedAt(entry) + entry.halfOpenAfterMs <= now) {
      return 'half-open';
    }
    return NAMES[state];
  }

  /** False while the circuit is open (a half-open circuit lets a trial call through). */
  isAvailable(agent: string): boolean {
    const s = this.state(agent);
    return s === 'closed' || s === 'half-open';
  }

  /** When an open circuit will let a trial call through, or undefined if it is not open. */
  reopensAt(agent: string): number | undefined {
    const entry = this.#entries.get(agent);
    if (!entry || entry.policy.state !== CircuitState.Open) return undefined;
    return this.#openedAt(entry) + entry.halfOpenAfterMs;
  }

  /** Every known circuit with its state, for status output. */
  snapshot(): Record<string, CircuitStateName> {
    const out: Record<string, CircuitStateName> = {};
    for (const agent of new Set([...this.#entries.keys(), ...this.#saved.keys()])) {
      out[agent] = this.state(agent);
    }
    return out;
  }

  /** Resolves once every state change so far is saved. */
  flush(): Promise<void> {
    return this.#saving;
  }

  #openedAt(entry: Entry): number {
    const json = entry.policy.toJSON() as { ownState?: { openedAt?: number } };
    return json.ownState?.openedAt ?? 0;
  }

  #entry(agent: string): Entry {
    let entry = this.#entries.get(agent);
    if (entry) return entry;
    const options = { ...this.defaults, ...this.perAgent[agent] };
    const counts = this.deps.counts ?? (() => true);
    const policy = circuitBreaker(
      handleWhen((e) => !(e instanceof EndedByHost) && counts(e)),
      {
        halfOpenAfter: options.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(options.threshold),
        initialState: this.#saved.get(agent),
      },
    );
    entry = { policy, halfOpenAfterMs: options.halfOpenAfterMs };
    this.#entries.set(agent, entry);
    policy.onStateChange((state) => {
      this.deps.onChange?.(agent, NAMES[state]);
      this.#save(agent, policy);
    });
    // Consecutive-failure counts change without a state change; persist them too so a restart
    // does not forget that an agent was one failure away from opening.
    let failing = false;
    policy.onFailure(() => {
      failing = true;
      this.#save(agent, policy);
    });
    policy.onSuccess(() => {
      if (!failing) return;
      failing = false;
      this.#save(agent, policy);
    });
    return entry;
  }

  #save(agent: string, policy: CircuitBreakerPolicy): void {
    const state = this.deps.state;
    if (!state) return;
    this.#saving = this.#saving
      .then(() => state.set(FAILOVER_NAMESPACE, `circuit:${agent}`, policy.toJSON() as JsonValue))
      .catch((err: unknown) =>
        this.deps.logger?.warn({ err, agent }, 'could not save the circuit state'),
      );
  }
}
