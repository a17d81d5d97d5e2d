import { redactSecrets } from '@agentd/core/host';
import type { GrammyError, HttpError } from 'grammy';

/**
 * Whether `error` is grammY's `GrammyError` (Telegram answered `ok: false`). Told by the name
 * grammY gives it rather than `instanceof`, so the plugin's modules need not load grammY (and
 * its HTTP client) until the plugin registers: a CLI command that only loads the config skips it.
 *
 * @example
 * ```ts
 * if (isGrammyError(error) && error.error_code === 401) console.error('token refused');
 * ```
 */
export function isGrammyError(error: unknown): error is GrammyError {
  return error instanceof Error && error.name === 'GrammyError';
}

/**
 * Whether `error` is grammY's `HttpError` (the request itself failed), as {@link isGrammyError}.
 *
 * @example
 * ```ts
 * if (isHttpError(error)) console.error(describeError(error));
 * ```
 */
export function isHttpError(error: unknown): error is HttpError {
  return error instanceof Error && error.name === 'HttpError';
}

/**
 * An error's message for logs and health output: Telegram's own description for API errors;
 * for network errors grammY's message plus the underlying reason, whose request URL holds the
 * token, so secrets are removed.
 *
 * @example
 * ```ts
 * describeError(error); // "Network request for 'getUpdates' failed! (request to https://api.telegram.org/bot[redacted]/getUpdates failed, reason: getaddrinfo ENOTFOUND api.telegram.org)"
 * ```
 */
export function describeError(error: unknown): string {
  if (isGrammyError(error)) return `${error.method}: ${error.description}`;
  if (isHttpError(error)) {
    const reason = error.error instanceof Error ? ` (${error.error.message})` : '';
    return redactSecrets(`${error.message}${reason}`);
  }
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
