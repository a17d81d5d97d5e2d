import { setTimeout as sleep } from 'node:timers/promises';
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import { isGrammyError } from './describe-error.js';

/**
 * Whether asking Telegram again cannot help: a 4xx other than 429 (a bad webhook URL, a wrong
 * API root). A 401 is one too; callers that care say so first.
 *
 * @example
 * ```ts
 * if (isPermanent(error)) throw new AgentdError('E_TELEGRAM_SETUP', describeError(error));
 * ```
 */
export function isPermanent(error: unknown): boolean {
  return (
    isGrammyError(error) &&
    error.error_code >= 400 &&
    error.error_code < 500 &&
    error.error_code !== 429
  );
}

/**
 * The waits between tries of a Telegram call that failed: 1 s doubling to 60 s (with
 * cockatiel's jitter), or longer when Telegram's `retry_after` asks for it.
 *
 * @example
 * ```ts
 * const backoff = new RetryBackoff();
 * await sleep(backoff.next(error)); // after a failure
 * backoff.reset();                  // after a success
 * ```
 */
export class RetryBackoff {
  readonly #backoff = new ExponentialBackoff({ initialDelay: 1_000, maxDelay: 60_000 });
  #step: IBackoff<unknown> | undefined;

  /** The wait, in ms, before trying again after `error`. */
  next(error: unknown): number {
    this.#step = this.#step ? this.#step.next(undefined) : this.#backoff.next();
    const retryAfter = isGrammyError(error) ? error.parameters.retry_after : undefined;
    return Math.max(Math.round(this.#step.duration), (retryAfter ?? 0) * 1000);
  }

  /** Starts over from the shortest wait. */
  reset(): void {
    this.#step = undefined;
  }
}

/**
 * Runs `attempt` until it succeeds, waiting as {@link RetryBackoff} says between tries, until
 * `signal` aborts or the error is permanent. Resolves with the result, or undefined when it gave
 * up. Its waits never keep the process alive.
 *
 * @example
 * ```ts
 * const me = await keepTrying(() => api.getMe(), signal, (error) => log.warn(describeError(error)));
 * ```
 */
export async function keepTrying<T>(
  attempt: () => Promise<T>,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): Promise<T | undefined> {
  const backoff = new RetryBackoff();
  while (!signal.aborted) {
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted) return undefined;
      onError(error);
      if (isPermanent(error)) return undefined;
      await sleep(backoff.next(error), undefined, { signal, ref: false }).catch(() => {});
    }
  }
  return undefined;
}
