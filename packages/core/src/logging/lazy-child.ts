import type { LogFn, Logger, LogLevel } from '../contracts/logger.js';

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** What a {@link LogFn} takes: `(msg)` or `(obj, msg?)`. */
type LogArgs = [msg: string] | [obj: object, msg?: string];
type LogCall = (...args: LogArgs) => void;

/**
 * A {@link Logger} that creates its real child on the first line written. A class, so a run's
 * logger is one small object: the closures per level it was built from before cost about 900
 * bytes per run, for a logger most runs never use.
 */
class LazyChildLogger implements Logger {
  readonly #parent: Logger;
  readonly #bindings: Record<string, unknown>;
  #child: Logger | undefined;
  /** Each level's method, made when first looked up (see the accessors below). */
  #methods: Partial<Record<LogLevel, LogCall>> | undefined;

  constructor(parent: Logger, bindings: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #real(): Logger {
    this.#child ??= this.#parent.child(this.#bindings);
    return this.#child;
  }

  // The six level methods are accessors on the prototype that hand out a function bound to
  // this logger, made on first use: `log.info(...)` works, and so do detached uses such as
  // `promise.catch(log.error)` or `const { info } = log`, as with the closures before.
  declare trace: LogFn;
  declare debug: LogFn;
  declare info: LogFn;
  declare warn: LogFn;
  declare error: LogFn;
  declare fatal: LogFn;

  static {
    for (const level of LEVELS) {
      Object.defineProperty(LazyChildLogger.prototype, level, {
        configurable: true,
        get(this: LazyChildLogger): LogCall {
          this.#methods ??= {};
          this.#methods[level] ??= (...args: LogArgs) => {
            // Called on the real logger, as pino's methods must be.
            (this.#real()[level] as LogCall)(...args);
          };
          return this.#methods[level];
        },
      });
    }
  }

  child(bindings: Record<string, unknown>): Logger {
    return this.#real().child(bindings);
  }
}

/**
 * A child logger created on first use. The runner gives every run a logger bound to its task
 * and agent; most runs never log, and building a pino child per task is measurable on the hot
 * path, so the child is only made when a line is written. Call its methods on it, as with pino
 * (`log.info(...)`, not a detached `info(...)`).
 *
 * @example
 * ```ts
 * const runLogger = lazyChild(logger, { task: task.id, agent: 'writer' });
 * runLogger.info('only now is the child created');
 * ```
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new LazyChildLogger(parent, bindings);
}
