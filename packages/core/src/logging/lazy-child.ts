import type { LogFn, Logger } from '../contracts/logger.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * A child logger created on first use. The runner gives every run a logger bound to its task
 * and agent; most runs never log, and building a pino child per task is measurable on the hot
 * path, so the child is only made when a line is written.
 *
 * @example
 * ```ts
 * const runLogger = lazyChild(logger, { task: task.id, agent: 'writer' });
 * runLogger.info('only now is the child created');
 * ```
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const real = () => {
    child ??= parent.child(bindings);
    return child;
  };
  const lazy = { child: (more: Record<string, unknown>) => real().child(more) } as Logger;
  for (const level of LEVELS) {
    lazy[level] = ((...args: Parameters<LogFn>) =>
      (real()[level] as (...a: unknown[]) => void)(...args)) as LogFn;
  }
  return lazy;
}
