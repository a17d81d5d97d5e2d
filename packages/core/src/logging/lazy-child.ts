import type { LogFn, Logger, LogLevel } from '../contracts/logger.js';

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** What a {@link LogFn} takes: `(msg)` or `(obj, msg?)`. */
type LogArgs = [msg: string] | [obj: object, msg?: string];
type LogCall = (...args: LogArgs) => void;

/**
 * A {@link Logger} that creates its real child on the first line written. A class with its
 * methods on the prototype, so a run's logger is one small object: the closures per level it
 * was built from before cost about 900 bytes per run.
 */
class LazyChildLogger implements Logger {
  readonly #parent: Logger;
  readonly #bindings: Record<string, unknown>;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #real(): Logger {
    this.#child ??= this.#parent.child(this.#bindings);
    return this.#child;
  }

  // The six level methods, defined once on the prototype below. Call them as methods, as
  // pino's own must be called: `(x.info as LogCall)(...)` keeps `this`.
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
        writable: true,
        value(this: LazyChildLogger, ...args: LogArgs): void {
          (this.#real()[level] as LogCall)(...args);
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
