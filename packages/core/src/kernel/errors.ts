/**
 * Base class of every error agentd raises on purpose. `code` is stable and documented; the
 * CLI prints `message` alone (no stack) for these unless `--verbose` is given.
 *
 * @example
 * ```ts
 * try { await host.start(); } catch (e) {
 *   if (e instanceof AgentdError && e.code === 'E_PLUGIN_START_TIMEOUT') { ... }
 * }
 * ```
 */
export class AgentdError extends Error {
  override name = 'AgentdError';
  constructor(
    readonly code: string,
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
