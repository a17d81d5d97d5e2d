import { createToken } from '../kernel/token.js';

/** Log levels from most to least verbose. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** One log method: `(msg)`, `(obj, msg?)`, or `(err, msg?)`, as pino takes them. */
export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

/**
 * The logger every plugin receives as `ctx.logger`. It is the subset of pino's API that agentd
 * uses, so any pino logger (or a thin wrapper around another logger) satisfies it.
 *
 * @example
 * ```ts
 * ctx.logger.info({ chatId }, 'message received');
 * ctx.logger.error({ err }, 'send failed');
 * ```
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger whose lines carry `bindings` (agentd binds `plugin` for each plugin). */
  child(bindings: Record<string, unknown>): Logger;
}

/** The host's root logger. */
export const LoggerToken = createToken<Logger>('agentd.logger');
