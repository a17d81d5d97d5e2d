import { autoRetry } from '@grammyjs/auto-retry';
import { Api } from 'grammy';
import { type BotApiFetch, botApiFetch } from './bot-api-fetch.js';

/** 429 answers one send waits out (each within `maxRetryDelaySeconds`) before it fails. */
const MAX_RATE_LIMIT_RETRIES = 3;
/** Beyond the long poll's own wait: how long a silent connection may take to answer. */
const POLL_GRACE_SECONDS = 15;

/**
 * The client for polling, start-up checks and chat actions: no retries inside a call (the
 * poller has its own backoff and must notice a failure at once), and a silent connection is
 * given up shortly after the long poll's own wait.
 *
 * @example
 * ```ts
 * const api = pollingApi(token, 'https://api.telegram.org', 30);
 * ```
 */
export function pollingApi(
  token: string,
  apiRoot: string,
  pollTimeoutSeconds: number,
  fetch: BotApiFetch = botApiFetch(),
): Api {
  return new Api(token, {
    apiRoot,
    timeoutSeconds: pollTimeoutSeconds + POLL_GRACE_SECONDS,
    // grammY's client types name node-fetch's `fetch`; it calls only what botApiFetch serves.
    fetch: fetch as never,
  });
}

/**
 * The client for sending messages: a 429 whose `retry_after` is at most `maxRetryDelaySeconds`
 * is waited out inside the call (grammY's auto-retry, up to 3 times); network and server errors
 * fail the send at once, for its caller (the reply outbox) to retry with backoff. `onRateLimited`
 * hears every 429 (for metrics).
 *
 * @example
 * ```ts
 * const api = sendingApi(token, 'https://api.telegram.org', 30);
 * ```
 */
export function sendingApi(
  token: string,
  apiRoot: string,
  maxRetryDelaySeconds: number,
  onRateLimited?: (retryAfterSeconds: number | undefined) => void,
  fetch: BotApiFetch = botApiFetch(),
): Api {
  const api = new Api(token, { apiRoot, fetch: fetch as never });
  // Installed first, so it sits inside auto-retry and hears every 429, waited out or not.
  if (onRateLimited) {
    api.config.use(async (prev, method, payload, signal) => {
      const response = await prev(method, payload, signal);
      if (!response.ok && response.error_code === 429) {
        onRateLimited(response.parameters?.retry_after);
      }
      return response;
    });
  }
  api.config.use(
    autoRetry({
      maxDelaySeconds: maxRetryDelaySeconds,
      maxRetryAttempts: MAX_RATE_LIMIT_RETRIES,
      rethrowHttpErrors: true,
      rethrowInternalServerErrors: true,
    }),
  );
  return api;
}
