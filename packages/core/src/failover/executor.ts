import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import type {
  AgentExecutor,
  AgentRegistry,
  AgentResult,
  ExecuteContext,
} from '../contracts/agent.js';
import type { AttemptRecord, ClassifiedError } from '../contracts/failover.js';
import type { JsonValue } from '../contracts/json.js';
import type { Notifier } from '../contracts/notifier.js';
import { raiseAlert } from '../contracts/notifier.js';
import type { HistoryEntry, Session } from '../contracts/session.js';
import type { StateStore } from '../contracts/state.js';
import type { Task } from '../contracts/task.js';
import type { EventBus } from '../kernel/events.js';
import { inSpan } from '../kernel/tracing.js';
import type { SecretMasker } from '../logging/secret-masker.js';
import { AgentContext } from '../runtime/agent-context.js';
import { TURN_HANDOFF, type TurnHandoff } from '../runtime/turn-handoff.js';
import type { BudgetGuard } from './budgets.js';
import { EndedByHost, FAILOVER_NAMESPACE, isCircuitRefusal } from './circuits.js';
import {
  BudgetExceededError,
  EmptyResultError,
  FailoverExhaustedError,
  isEmptyOutput,
} from './errors.js';
import type { DefaultFailoverPolicy } from './policy.js';

/** What the executor needs from the session manager. */
export interface SessionRunner {
  /**
   * Runs `work` under the session's lock with its live resource (resumed first if suspended);
   * rejects if the session cannot be resumed. With `handOff`, the run's end (its turn) may be
   * handed to the task's completion instead of written by the run itself (see TurnHandoff).
   */
  run<T>(
    sessionId: string,
    work: (session: Session, resource: unknown) => Promise<T>,
    handOff?: TurnHandoff,
  ): Promise<T>;
  history(sessionId: string, limit: number): Promise<HistoryEntry[]>;
  appendTurn(session: Session, input: JsonValue, output: JsonValue, taskId: string): Promise<void>;
}

/** Dependencies of {@link FailoverExecutor}. */
export interface FailoverExecutorDeps {
  agents: AgentRegistry;
  policy: DefaultFailoverPolicy;
  events: EventBus;
  budgets?: BudgetGuard;
  sessions?: SessionRunner;
  notifier?: Notifier;
  state?: StateStore;
  /** Masks the host's secrets in the failure history it stores and the errors it raises. */
  masker?: SecretMasker;
}

/**
 * The {@link AgentExecutor} of the failover plugin. For each task: refuse it if a cost cap is
 * reached; bind it to its session (resume if suspended, one run per session at a time); then walk
 * the agent's chain, skipping agents whose circuit is open or whose Retry-After has not passed,
 * retrying retryable errors with exponential backoff (never sooner than Retry-After), moving on
 * after a rate limit, a model error or an empty result, and giving up at once on auth and
 * content-filter errors. When nothing works, the task fails with every attempt in its error
 * message (and in the StateStore), and an alert goes to the notifier.
 *
 * @example
 * ```ts
 * const executor = new FailoverExecutor({ agents, policy: new DefaultFailoverPolicy(config), events });
 * const result = await executor.execute(task, 'research', { signal, logger, clock });
 * ```
 */
export class FailoverExecutor implements AgentExecutor {
  constructor(private readonly deps: FailoverExecutorDeps) {}

  /** Adds services known only once every plugin registered (sessions, the notifier). */
  attach(more: Pick<FailoverExecutorDeps, 'sessions' | 'notifier'>): void {
    if (more.sessions) this.deps.sessions = more.sessions;
    if (more.notifier) this.deps.notifier = more.notifier;
  }

  async execute(task: Task, agent: string, ctx: ExecuteContext): Promise<AgentResult> {
    const { budgets, sessions } = this.deps;
    if (budgets) {
      const refusal = budgets.checkCost();
      if (refusal) {
        this.deps.events.emit('budget.exceeded', {
          userKey: null,
          limit: refusal.limit,
          message: refusal.message,
        });
        void this.#alert('error', 'Budget reached: work refused', refusal.message, refusal.limit);
        throw new BudgetExceededError(refusal.message, refusal.limit);
      }
    }
    const sessionId = task.metadata.sessionId;
    if (sessions && typeof sessionId === 'string') {
      // No signal for the session's run: an abort reaches the agent through ctx.signal, which is
      // read only where needed (reading it makes an AbortController per task).
      // The runner's context may carry its hand-off: the run's end is then written with the
      // task's completion, in one commit.
      const handOff = (ctx as { [TURN_HANDOFF]?: TurnHandoff })[TURN_HANDOFF];
      return sessions.run(
        sessionId,
        async (session, resource) => {
          const result = await this.#chain(task, agent, ctx, session, resource);
          await sessions
            .appendTurn(session, task.input, result.output, task.id)
            .catch((err: unknown) =>
              ctx.logger.warn({ err }, 'could not append to the session history'),
            );
          return result;
        },
        handOff,
      );
    }
    return this.#chain(task, agent, ctx);
  }

  async #chain(
    task: Task,
    first: string,
    ctx: ExecuteContext,
    session?: Session,
    resource?: unknown,
  ): Promise<AgentResult> {
    const { policy, agents } = this.deps;
    // ctx.signal is read only where needed: the runner makes the AbortController lazily.
    const { clock } = ctx;
    const attempts: AttemptRecord[] = [];
    const chain = policy.chainFor(first);
    const history =
      session && this.deps.sessions
        ? (limit: number) => this.deps.sessions!.history(session.id, limit)
        : undefined;
    let onlyWaiting = true;
    let lastError: unknown;
    for (const name of chain) {
      const agent = agents.get(name);
      if (!agent) {
        attempts.push(this.#skip(name, clock.now(), `no agent named "${name}" on this host`));
        onlyWaiting = false;
        continue;
      }
      if (!policy.isAvailable(name)) {
        attempts.push(this.#skip(name, clock.now(), this.#skipReason(name)));
        continue;
      }
      const { retries, initialDelayMs, maxDelayMs } = policy.retrySettings(name);
      let backoff: IBackoff<unknown> | undefined;
      for (let n = 0; n <= retries; n++) {
        const startedAt = clock.now();
        const runCtx = new AgentContext(task, ctx, ctx.logger, clock);
        if (session) {
          runCtx.session = session;
          if (name === session.agent && resource !== undefined) runCtx.resource = resource;
        }
        if (history) runCtx.history = history;
        try {
          const result = await policy.circuits.execute(name, async () => {
            let r: AgentResult;
            try {
              r = await inSpan(
                'agentd.agent.attempt',
                { 'agentd.task.id': task.id, 'agentd.agent': name, 'agentd.attempt': n + 1 },
                () => agent.run(task.input, runCtx),
              );
            } catch (err) {
              // A cancel or a stop aborted the run: not the provider's failure (see EndedByHost).
              throw ctx.signal.aborted ? new EndedByHost(err) : err;
            }
            // In a failover chain an empty answer is a failure worth moving on from; a lone agent
            // may legitimately return nothing (a task run for its side effects).
            if (chain.length > 1 && isEmptyOutput(r?.output)) throw new EmptyResultError(name);
            return r;
          });
          this.#record(task, attempts, {
            agent: name,
            startedAt,
            finishedAt: clock.now(),
            outcome: 'success',
          });
          if (result.usage && this.deps.budgets) await this.#spend(result, ctx);
          return result;
        } catch (caught) {
          const err = caught instanceof EndedByHost ? caught.error : caught;
          // Cancel, timeout and shutdown are the runner's business, not a reason to fail over.
          if (ctx.signal.aborted) throw err;
          if (isCircuitRefusal(err)) {
            attempts.push(this.#skip(name, clock.now(), this.#skipReason(name)));
            break;
          }
          lastError = err;
          const classified = policy.classify(err);
          this.#record(task, attempts, {
            agent: name,
            startedAt,
            finishedAt: clock.now(),
            outcome: classified,
          });
          if (classified.class !== 'rate_limit') onlyWaiting = false;
          if (classified.action === 'give_up') {
            throw await this.#exhausted(task, attempts, undefined, classified);
          }
          if (classified.action !== 'retry' || n === retries) break;
          backoff = backoff
            ? backoff.next(undefined)
            : new ExponentialBackoff({ initialDelay: initialDelayMs, maxDelay: maxDelayMs }).next();
          const wait = Math.max(Math.round(backoff.duration), classified.retryAfterMs ?? 0);
          if (wait > policy.maxRetryAfterMs) break;
          await clock.sleep(wait, ctx.signal);
        }
      }
    }
    // Only rate limits and open circuits stood in the way: try the task again when one clears.
    if (onlyWaiting) {
      const times = chain
        .map((a) => policy.availableAt(a))
        .filter((t): t is number => t !== undefined);
      if (times.length > 0) {
        throw await this.#exhausted(task, attempts, Math.min(...times));
      }
    }
    const exhausted = await this.#exhausted(task, attempts);
    // With no chain to tell about, the agent's own error is the clearest account of what failed.
    throw chain.length === 1 && lastError !== undefined ? lastError : exhausted;
  }

  #skipReason(agent: string): string {
    const at = this.deps.policy.availableAt(agent);
    const state = this.deps.policy.circuits.state(agent);
    const until = at === undefined ? '' : ` until ${new Date(at).toISOString()}`;
    const skipped =
      state === 'open' ? `skipped: circuit open${until}` : `skipped: rate limited${until}`;
    // The skip is a consequence: keep the failure that caused it (an HTTP 500's text, say).
    const cause = this.deps.policy.lastFailure(agent);
    return cause ? `${skipped}; last error: ${cause.class}: ${oneLine(cause.message)}` : skipped;
  }

  #skip(agent: string, now: number, message: string): AttemptRecord {
    return {
      agent,
      startedAt: now,
      finishedAt: now,
      outcome: { class: 'api_error', action: 'failover', message },
    };
  }

  #record(task: Task, attempts: AttemptRecord[], attempt: AttemptRecord): void {
    attempts.push(attempt);
    this.deps.policy.record(attempt);
    const { events } = this.deps;
    if (events.listenerCount('agent.attempt') > 0) {
      events.emit('agent.attempt', { taskId: task.id, attempt });
    }
  }

  async #spend(result: AgentResult, ctx: ExecuteContext): Promise<void> {
    const { budgets } = this.deps;
    if (!budgets || !result.usage) return;
    const crossed = await budgets.record(result.usage).catch((err: unknown) => {
      ctx.logger.warn({ err }, 'could not record the run cost');
      return [];
    });
    for (const text of crossed) {
      void this.#alert(
        text.includes('reached') ? 'error' : 'warning',
        `Budget: ${text}`,
        undefined,
        text,
      );
    }
  }

  async #exhausted(
    task: Task,
    attempts: AttemptRecord[],
    waitUntil?: number,
    gaveUp?: ClassifiedError,
  ): Promise<FailoverExhaustedError> {
    // Only a give-up class (auth, content filter) ends the task now. Anything else goes back to
    // the runner, which retries the whole chain later with durable backoff until maxAttempts.
    const retryable = gaveUp === undefined;
    const lines = attempts.map((a, i) => {
      const o = a.outcome === 'success' ? { class: 'success', message: '' } : a.outcome;
      return `${i + 1}. ${a.agent}: ${o.class}${o.message ? ` (${o.message})` : ''}`;
    });
    const final = !retryable || task.attempts >= task.maxAttempts;
    // A task that failed for good says so: "retrying at" only while attempts are left.
    const head = gaveUp
      ? `gave up (${gaveUp.class}): ${gaveUp.message}`
      : waitUntil !== undefined
        ? final
          ? `every agent is rate limited or unavailable (attempt ${task.attempts} of ${task.maxAttempts}, no retries left)`
          : `every agent is rate limited or unavailable; retrying at ${new Date(waitUntil).toISOString()}`
        : `every agent failed (${attempts.length} attempt(s))`;
    const { masker } = this.deps;
    const message = masker
      ? masker.mask(`${head}\n${lines.join('\n')}`)
      : `${head}\n${lines.join('\n')}`;
    const stored = masker ? masker.maskJson(attempts) : attempts;
    await this.deps.state
      ?.set(FAILOVER_NAMESPACE, `attempts:${task.id}`, stored as unknown as JsonValue, {
        ttlMs: 30 * 86_400_000,
      })
      .catch(() => {});
    const worthAlert = gaveUp ? gaveUp.class === 'auth' : this.deps.policy.alertOnExhaustion;
    if (final && worthAlert) {
      await this.#alert(
        'critical',
        gaveUp
          ? `Agent authentication failed for task ${task.id}`
          : `All agents failed for task ${task.id}`,
        `${task.description || '(no description)'}\n${message}`,
        gaveUp ? `failover:auth:${attempts.at(-1)?.agent}` : `failover:exhausted:${task.id}`,
      );
    }
    return new FailoverExhaustedError(message, attempts, retryable, final ? undefined : waitUntil);
  }

  async #alert(
    severity: 'warning' | 'error' | 'critical',
    title: string,
    message: string | undefined,
    dedupeKey: string,
  ): Promise<void> {
    const alert = { severity, title, source: 'failover', dedupeKey, ...(message && { message }) };
    await raiseAlert(this.deps.notifier, this.deps.events, alert);
  }
}

/** The first line of a message, bounded: a root cause kept inside a skip note. */
function oneLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
