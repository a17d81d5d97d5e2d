import { createRequire } from 'node:module';
import type { DestinationStream, LoggerOptions as PinoOptions } from 'pino';
import type { Logger, LogLevel } from '../contracts/logger.js';
import { redactSecrets, redactValue } from './redact.js';
import type { SecretMasker } from './secret-masker.js';

/**
 * pino, loaded by the first {@link createLogger} rather than with core: a CLI command that logs
 * nothing (`agentd tasks`) does not pay for its 30-odd modules. pino is CommonJS only, so
 * `require` loads the one copy an `import` would.
 */
const loadPino = () => (createRequire(import.meta.url)('pino') as typeof import('pino')).pino;

/** Options for the default pino logger. */
export interface LoggerOptions {
  /** Minimum level (default `info`, or `AGENTD_LOG_LEVEL`). */
  level?: LogLevel | 'silent';
  /** Human-readable output; default: when stdout is a TTY. */
  pretty?: boolean;
  /** Where JSON lines go (default stdout). Tests pass a stream to read the log. */
  destination?: NodeJS.WritableStream;
  /** Fields on every line. */
  base?: Record<string, unknown>;
  /**
   * The host's secrets, masked by value in every line besides the secret shapes masked always
   * (the host passes its own; see {@link SecretMasker}).
   */
  masker?: SecretMasker;
}

/**
 * Creates agentd's default logger: pino, JSON lines (pretty on a TTY), with secrets removed from
 * every line: secret-named keys at any depth are masked, and bot tokens, bearer credentials and
 * webhook secrets inside strings are redacted.
 *
 * @example
 * ```ts
 * const logger = createLogger({ level: 'debug' });
 * logger.info({ url: 'https://api.telegram.org/bot1:abc/getMe' }, 'calling');
 * // {"level":30,...,"url":"https://api.telegram.org/bot[redacted]/getMe","msg":"calling"}
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.AGENTD_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const pretty = options.pretty ?? (!options.destination && process.stdout.isTTY === true);
  const { masker } = options;
  const maskText = masker ? (text: string) => masker.mask(text) : redactSecrets;
  const redact = masker
    ? (value: unknown) => masker.redact(value)
    : (value: unknown) => redactValue(value);
  const pinoOptions: PinoOptions = {
    level,
    base: options.base ?? {},
    // Redaction runs only for lines that pass the level check, so debug logging costs nothing when off.
    formatters: { log: (obj) => redact(obj) as Record<string, unknown> },
    serializers: { err: (err: unknown) => redact(err) },
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((a) => (typeof a === 'string' ? maskText(a) : a));
        return method.apply(this, redacted as Parameters<typeof method>);
      },
    },
  };
  const pino = loadPino();
  if (pretty) {
    return pino({
      ...pinoOptions,
      transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } },
    });
  }
  return options.destination
    ? pino(pinoOptions, options.destination as DestinationStream)
    : pino(pinoOptions, pino.destination({ sync: true }));
}

/** A logger that drops everything (benchmarks, embedded use). */
export function silentLogger(): Logger {
  const drop = () => {};
  const logger: Logger = {
    trace: drop,
    debug: drop,
    info: drop,
    warn: drop,
    error: drop,
    fatal: drop,
    child: () => logger,
  };
  return logger;
}

/**
 * Wraps a logger of your own (`logger:` in the config) so the host's secrets are masked before
 * it sees a line: strings masked by value and shape, objects redacted as by the default logger.
 *
 * @example
 * ```ts
 * const logger = maskingLogger(myPinoLogger, host.resolve(SecretMaskerToken));
 * ```
 */
export function maskingLogger(logger: Logger, masker: SecretMasker): Logger {
  const wrap = (level: LogLevel) =>
    ((first: unknown, msg?: string) => {
      const fn = logger[level] as (...args: unknown[]) => void;
      if (typeof first === 'string') fn.call(logger, masker.mask(first));
      else if (msg === undefined) fn.call(logger, masker.redact(first));
      else fn.call(logger, masker.redact(first), masker.mask(msg));
    }) as Logger[LogLevel];
  return {
    trace: wrap('trace'),
    debug: wrap('debug'),
    info: wrap('info'),
    warn: wrap('warn'),
    error: wrap('error'),
    fatal: wrap('fatal'),
    child: (bindings) => maskingLogger(logger.child(bindings), masker),
  };
}
