import type { AgentRunContext } from '../contracts/agent.js';
import type { Clock } from '../contracts/clock.js';
import type { JsonObject } from '../contracts/json.js';
import type { Logger } from '../contracts/logger.js';
import type { HistoryEntry, Session } from '../contracts/session.js';
import type { Task } from '../contracts/task.js';
import { TURN_HANDOFF, type TurnHandoff } from './turn-handoff.js';

const SIGNAL_SOURCE = Symbol('agentd.signalSource');
const RECORDER = Symbol('agentd.processRecorder');

/** Records a process a run started with its task's lease (the runner's, see TaskStore.recordLeaseProcess). */
export type ProcessRecorder = (task: Task, process: JsonObject) => Promise<void>;

/** Whatever holds a run's signal, read only when the agent reads its own. */
interface SignalSource {
  readonly signal: AbortSignal;
}

/**
 * The context a run hands its agent (and the runner hands a failover executor). Its `signal` is
 * an own, enumerable getter that asks the source only when read, so the `AbortController`
 * behind it is made only for agents that look at it, and `{ ...ctx }` still copies the signal.
 *
 * A class with one shared getter, rather than an object literal with a `get signal()`: V8 gives
 * each such literal its own closure and a dictionary-mode object, about 590 bytes against 60,
 * made twice per task on the runner's hot path.
 *
 * @example
 * ```ts
 * const ctx = new AgentContext(task, control, logger, clock);
 * await agent.run(task.input, ctx); // ctx.signal made on first read
 * ```
 */
export class AgentContext implements AgentRunContext {
  static readonly #signal: PropertyDescriptor = {
    enumerable: true,
    configurable: true,
    // Reads through `this`, so it also works on a proxy of the context or an object made from it.
    get(this: AgentContext) {
      return this[SIGNAL_SOURCE].signal;
    },
  };

  // Declared, then assigned in the constructor in this order: the keys come out as the object
  // literal this replaces had them (task, signal, logger, clock).
  declare task: Task;
  declare signal: AbortSignal;
  declare logger: Logger;
  declare clock: Clock;
  // Declared only: the properties exist only on contexts that have them, as before.
  declare session?: Session;
  declare resource?: unknown;
  declare history?: (limit: number) => Promise<HistoryEntry[]>;
  declare readonly [SIGNAL_SOURCE]: SignalSource;
  declare [RECORDER]?: ProcessRecorder;
  /** Set by the runner for an executor's session run (see TurnHandoff). */
  declare [TURN_HANDOFF]?: TurnHandoff;

  constructor(
    task: Task,
    source: SignalSource,
    logger: Logger,
    clock: Clock,
    recorder?: ProcessRecorder,
  ) {
    this.task = task;
    Object.defineProperty(this, 'signal', AgentContext.#signal);
    this.logger = logger;
    this.clock = clock;
    // A symbol key: invisible to Object.keys and JSON; a spread copies it along, harmlessly.
    this[SIGNAL_SOURCE] = source;
    if (recorder) this[RECORDER] = recorder;
  }

  /**
   * Records a process this run started with the task's lease. A context made by an executor from
   * the runner's context (its signal source) records through the runner's recorder.
   */
  recordProcess(process: JsonObject): Promise<void> {
    const recorder =
      this[RECORDER] ?? (this[SIGNAL_SOURCE] as Partial<AgentContext>)[RECORDER] ?? undefined;
    return recorder ? recorder(this.task, process) : Promise.resolve();
  }
}
