import type { AgentdErrorCode } from './error-codes.js';

/**
 * Base class of every error agentd raises on purpose. `code` is stable and listed, with its
 * cause and fix, in docs/errors.md; it is typed by {@link AgentdErrorCode}, so only catalogued
 * codes compile (a plugin adds its own by declaration merging on `AgentdErrorCodes`). The CLI
 * prints `message` alone (no stack) for these unless `--verbose` is given.
 *
 * @example
 * ```ts
 * try {
 *   await host.start();
 * } catch (error) {
 *   // A start hook that timed out: E_PLUGIN_START, caused by a TimeoutError (E_TIMEOUT).
 *   if (error instanceof AgentdError && error.code === 'E_PLUGIN_START' && error.cause instanceof TimeoutError) {
 *     console.error(`a plugin took too long to start: ${error.message}`);
 *   }
 * }
 * ```
 */
export class AgentdError extends Error {
  override name = 'AgentdError';
  constructor(
    readonly code: AgentdErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A config file could not be found, loaded or validated. `issues` holds `path: message` lines. */
export class ConfigError extends AgentdError {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super('E_CONFIG', message, options);
  }
}

/** The plugin graph is invalid: duplicate names, a missing dependency or service, a cycle. */
export class PluginGraphError extends AgentdError {
  override name = 'PluginGraphError';
}

/** A plugin hook failed or timed out while the host was starting. */
export class HostStartError extends AgentdError {
  override name = 'HostStartError';
}

/** A service was resolved that no plugin provides. */
export class MissingServiceError extends AgentdError {
  override name = 'MissingServiceError';
}

/** A hook did not settle within its time limit. */
export class TimeoutError extends AgentdError {
  override name = 'TimeoutError';
}

/** Work was offered while the host is not accepting it (stopping, or stopped). */
export class IntakeClosedError extends AgentdError {
  override name = 'IntakeClosedError';
  constructor(message = 'the host is shutting down and accepts no new work') {
    super('E_INTAKE_CLOSED', message);
  }
}

/**
 * A task (or an inbound message on its way to become one) is larger than the store takes. Its
 * code stays `E_INVALID_TASK` (a caller's error); `bytes` and `limitBytes` let a channel say
 * "That message is too long (1.9 MiB, limit 1 MiB)".
 *
 * @example
 * ```ts
 * if (error instanceof PayloadTooLargeError) reply(`too long: ${error.bytes} bytes`);
 * ```
 */
export class PayloadTooLargeError extends AgentdError {
  override name = 'PayloadTooLargeError';
  constructor(
    readonly bytes: number,
    readonly limitBytes: number,
    message: string,
  ) {
    super('E_INVALID_TASK', message);
  }
}

/**
 * An inbound input that cannot be taken however often it is tried: malformed (no chat, a text
 * that is not a string), or refused by a rule. Channels throw it from inside
 * `IntakeGuard.take`, which keeps the input as a dead letter and never retries it. `reply`,
 * when set, is what the sender is told.
 *
 * @example
 * ```ts
 * throw new InvalidInputError('the message has no chat', { reply: 'Sorry, I cannot read that message.' });
 * ```
 */
export class InvalidInputError extends AgentdError {
  override name = 'InvalidInputError';
  readonly reply: string | undefined;
  constructor(message: string, options: { reply?: string; cause?: unknown } = {}) {
    super('E_INVALID_INPUT', message, options);
    this.reply = options.reply;
  }
}
