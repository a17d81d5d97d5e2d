import { TimeoutError } from './errors.js';

/**
 * Settles with `work`, or rejects with a {@link TimeoutError} after `ms`. The work itself is not
 * cancelled (a hung hook cannot be); the caller moves on and reports it.
 *
 * @example
 * ```ts
 * const sample = await withTimeout(() => readDisk(path), 10_000, 'reading the disk');
 * // rejects after 10 s: "reading the disk did not finish within 10000 ms"
 * ```
 */
export async function withTimeout<T>(
  work: () => T | Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError('E_TIMEOUT', `${what} did not finish within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(work), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Formats any thrown value as a one-line message. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}
