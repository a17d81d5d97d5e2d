import type { ExponentialBackoff, IBackoff } from 'cockatiel';

/**
 * The delay in ms before retry number `retry` (1 for the first) of `backoff`: the runner and the
 * reply outbox keep no backoff state between attempts, only a count, so they replay the steps.
 *
 * @example
 * ```ts
 * const backoff = new ExponentialBackoff({ initialDelay: 1000, maxDelay: 60_000 });
 * retryDelay(backoff, 3); // about 4000 (decorrelated jitter)
 * ```
 */
export function retryDelay(backoff: ExponentialBackoff<unknown>, retry: number): number {
  let step: IBackoff<unknown> = backoff.next();
  for (let i = 1; i < retry; i++) step = step.next(undefined);
  return Math.round(step.duration);
}
