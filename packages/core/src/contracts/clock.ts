import { createToken } from '../kernel/token.js';

/** A pending timer; `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * The source of time for everything that waits: leases, idle timeouts, cooldowns, cron
 * catch-up. Tests swap in a manual clock (`@agentd/core/testing`) and run in milliseconds.
 *
 * @example
 * ```ts
 * const clock = ctx.resolve(ClockToken);
 * const timer = clock.setTimeout(() => suspendIdleSessions(), 60_000);
 * await clock.sleep(500, signal);
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` (at least; never early). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Resolves after `ms`; rejects with `signal.reason` if aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const ClockToken = createToken<Clock>('agentd.clock');
