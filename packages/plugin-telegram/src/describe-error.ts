import { redactSecrets } from '@agentd/core/host';
import { GrammyError, HttpError } from 'grammy';

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
  if (error instanceof GrammyError) return `${error.method}: ${error.description}`;
  if (error instanceof HttpError) {
    const reason = error.error instanceof Error ? ` (${error.error.message})` : '';
    return redactSecrets(`${error.message}${reason}`);
  }
  return redactSecrets(error instanceof Error ? error.message : String(error));
}
