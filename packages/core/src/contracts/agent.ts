import { createToken } from '../kernel/token.js';
import type { Clock } from './clock.js';
import type { JsonObject, JsonValue } from './json.js';
import type { Logger } from './logger.js';
import type { HistoryEntry, Session } from './session.js';
import type { Task } from './task.js';

/** Tokens and cost an agent reports for one run; budgets add these up. */
export interface AgentUsage {
  inputTokens?: number;
  outputTokens?: number;
  /** Cost in US dollars, if the agent knows it. */
  costUsd?: number;
  model?: string;
}

/** What an agent's run produced. An empty `output` counts as a failure for failover. */
export interface AgentResult {
  output: JsonValue;
  usage?: AgentUsage;
}

/** Everything a run may use besides its input. */
export interface AgentRunContext<R = unknown> {
  task: Task;
  /** The session the task belongs to, when it came from a conversation. */
  session?: Session;
  /** The session's live resource (see {@link SessionResources}), already resumed. */
  resource?: R;
  /** Aborted on cancel, timeout or shutdown: stop work and reject promptly. */
  signal: AbortSignal;
  logger: Logger;
  clock: Clock;
  /**
   * The session's newest `limit` history entries, oldest first (present when the task belongs to
   * a session). The executor appends the input and the output after each successful run.
   */
  history?(limit: number): Promise<HistoryEntry[]>;
  /**
   * Records a process this run started (`{ pid, startTime, command, hostname }`, see
   * `processRecord`) with the task's lease, so that if this host dies, the host that recovers
   * the lease ends the process before the task runs again. Absent (or a no-op) outside the runner.
   *
   * @example
   * ```ts
   * const child = spawn('my-tool', [], { detached: true });
   * await ctx.recordProcess?.(processRecord(child.pid!));
   * ```
   */
  recordProcess?(process: JsonObject): Promise<void>;
}

/**
 * A live resource an agent holds per session (a CLI process, a browser, an API conversation),
 * released when the session idles and restored when the user comes back.
 */
export interface SessionResources<R = unknown> {
  /** Creates the resource for a new session. */
  open(session: Session): Promise<R>;
  /** Releases the resource and returns what is needed to resume it later (kept in the store). */
  suspend(session: Session, resource: R): Promise<JsonValue>;
  /** Re-creates the resource from the snapshot `suspend` returned. Rejects if it cannot. */
  resume(session: Session, snapshot: JsonValue): Promise<R>;
  /** Ends the resource for good (archive, shutdown). Must not throw for an already dead one. */
  close(session: Session, resource: R): Promise<void>;
  /**
   * Facts about a live resource kept in the store (`Session.resource`), so a host that crashed
   * can end it at the next start. A process should give `{ pid, command, startTime }`: the host
   * checks that the PID still runs that command before killing its process group.
   */
  describe?(resource: R): JsonObject | undefined;
}

/**
 * Something that runs tasks: a function, a CLI such as `claude -p`, an LLM API.
 *
 * @example
 * ```ts
 * const echo: Agent = {
 *   name: 'echo',
 *   async run(input) { return { output: input }; },
 * };
 * ctx.resolve(AgentRegistryToken).add(echo);
 * ```
 */
export interface Agent<R = unknown> {
  readonly name: string;
  run(input: JsonValue, ctx: AgentRunContext<R>): Promise<AgentResult>;
  /** Present when the agent keeps a live resource per session. */
  readonly sessions?: SessionResources<R>;
  /**
   * The options the agent was made with, when they may hold `${ENV}` placeholders: the host
   * fills those in (registering the values as secrets, reporting unset variables with the
   * agent's config path) and runs the agent {@link Agent.withOptions} returns.
   */
  readonly options?: unknown;
  /** The same agent with `${ENV}` placeholders in {@link Agent.options} filled in. */
  withOptions?(options: unknown): Agent<R>;
}

/** The host's agents by name. Provided by the kernel. */
export interface AgentRegistry {
  add(agent: Agent): void;
  get(name: string): Agent | undefined;
  list(): Agent[];
  /** Name of the agent for tasks that name none. */
  readonly defaultAgent: string | undefined;
  setDefault(name: string): void;
}

export const AgentRegistryToken = createToken<AgentRegistry>('agentd.agents');

/** What the runner hands an {@link AgentExecutor} besides the task: the run's signal and tools. */
export interface ExecuteContext {
  signal: AbortSignal;
  logger: Logger;
  clock: Clock;
}

/**
 * Runs a task's agent on the runner's behalf, adding what sits between a task and `agent.run`:
 * sessions, budgets, failover chains, retries, circuit breakers. The runner calls `agent.run`
 * itself when no executor is provided, so a host without these features pays nothing for them.
 * An error it throws may carry `retryable: false` (fail the task for good) or `retryAt` (epoch ms
 * of the next attempt), which the runner honours.
 *
 * @example
 * ```ts
 * const executor = ctx.tryResolve(AgentExecutorToken);
 * const result = executor
 *   ? await executor.execute(task, agentName, { signal, logger, clock })
 *   : await agent.run(task.input, { task, signal, logger, clock });
 * ```
 */
export interface AgentExecutor {
  execute(task: Task, agent: string, ctx: ExecuteContext): Promise<AgentResult>;
}

export const AgentExecutorToken = createToken<AgentExecutor>('agentd.executor');
