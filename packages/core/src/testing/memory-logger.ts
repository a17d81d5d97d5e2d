import { Writable } from 'node:stream';
import type { Logger, LogLevel } from '../contracts/logger.js';
import { createLogger } from '../logging/create-logger.js';

/** One parsed log line. */
export interface LogLine {
  level: number;
  msg?: string;
  plugin?: string;
  [key: string]: unknown;
}

/**
 * A real agentd logger (pino, with redaction) whose lines are kept in memory for assertions.
 *
 * @example
 * ```ts
 * const { logger, lines } = memoryLogger();
 * const host = createHost({ logger, plugins: [...] });
 * await host.start();
 * expect(lines().some((l) => l.msg?.includes('is ready'))).toBe(true);
 * ```
 */
export function memoryLogger(level: LogLevel = 'debug'): {
  logger: Logger;
  lines: () => LogLine[];
  text: () => string;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level, destination, pretty: false });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine);
  return { logger, lines, text };
}
