import type { HealthResult } from '@agentd/core';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * How long one synchronous attempt may wait for another process's write lock (SQLite's
 * `busy_timeout` on the store's connection). better-sqlite3 is synchronous: while SQLite waits,
 * the event loop waits too. So a call waits only this long in place, then gives the event loop
 * back and retries on a timer (see {@link StoreFaults.retry}) until the store's busy budget ends.
 */
export const BUSY_WAIT_IN_PLACE_MS = 5;

/** Longest pause between two attempts of a call that waits for another process's lock. */
const MAX_RETRY_PAUSE_MS = 50;

/** Claims failing in a row before the store's health check fails (fewer: warn). */
const CLAIM_FAILURES_TO_FAIL = 3;

/**
 * Whether `error` is SQLite's "another connection holds the lock" (`SQLITE_BUSY` and its
 * extended codes).
 *
 * @example
 * ```ts
 * isBusy(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })); // true
 * ```
 */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

// The error codes that mean the store cannot take writes right now, whatever the caller sent:
// a full disk (or max_page_count), an I/O error, a file that turned read-only, a lock held past
// the budget, a damaged file.
const STORE_FAULT = /^SQLITE_(FULL|IOERR|READONLY|BUSY|LOCKED|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/;

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORE_FAULT.test(code) ? code : undefined;
}

/** One kind of failure the store's health check reports. */
export interface StoreFault {
  /** The store method that failed last, e.g. `tasks.enqueue`. */
  operation: string;
  /** SQLite's error code, or the error's name. */
  code: string;
  message: string;
  /** Epoch ms of the first failure of this run of failures. */
  since: number;
  /** Failures since the last success. */
  count: number;
}

/**
 * What went wrong with one store's connection lately, for its health check, and the retry of
 * calls that found another process holding the write lock.
 *
 * A write fault (disk full, I/O error, read-only file, a lock held past the busy budget) stays
 * until a later write succeeds: SQLite's `total_changes()` (rows changed by this connection)
 * grows, which costs the write path nothing. A claim fault counts claims failing in a row, for
 * any reason (an unreadable row, a bug), and clears on the next successful claim.
 *
 * @example
 * ```ts
 * const faults = new StoreFaults(db, 5000);
 * faults.health(); // { status: 'pass' }
 * ```
 */
export class StoreFaults {
  readonly #changes: BetterSqlite3.Statement;
  readonly #busyBudgetMs: number;
  readonly #now: () => number;
  #write: (StoreFault & { changesAtFailure: number }) | undefined;
  /** Set while claims fail; the claim path clears it (one field test when all is well). */
  claim: StoreFault | undefined;

  constructor(db: BetterSqlite3.Database, busyBudgetMs: number, now: () => number = Date.now) {
    this.#changes = db.prepare('SELECT total_changes()').pluck();
    this.#busyBudgetMs = busyBudgetMs;
    this.#now = now;
  }

  /**
   * Called with the error of a call's first attempt. If another process held the write lock,
   * calls `fn` on `receiver` with `args` again after a pause (1 ms, doubling up to 50 ms; the
   * event loop runs in between) until it succeeds or the busy budget is spent. Any other
   * failure, or the last busy one, is recorded when it is a store fault, and rethrown.
   *
   * The attempt comes as a function and its arguments rather than as a closure: a closure in a
   * store method's catch block would make V8 allocate the variables it captures on every call,
   * including the calls that succeed at once.
   */
  async retry<R, A extends unknown[], T>(
    error: unknown,
    operation: string,
    receiver: R,
    fn: (this: R, ...args: A) => T,
    ...args: A
  ): Promise<T> {
    if (!isBusy(error)) throw this.#recorded(error, operation);
    const deadline = this.#now() + this.#busyBudgetMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, MAX_RETRY_PAUSE_MS)) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      try {
        return fn.apply(receiver, args);
      } catch (next) {
        if (!isBusy(next) || this.#now() >= deadline) throw this.#recorded(next, operation);
      }
    }
  }

  /** Records a failed claim (any error; a store fault was recorded by the retry); returns it. */
  claimFailed(error: unknown): unknown {
    const code = sqliteCode(error) ?? (error instanceof Error ? error.name : 'Error');
    const message = error instanceof Error ? error.message : String(error);
    const prev = this.claim;
    this.claim = {
      operation: 'tasks.claim',
      code,
      message,
      since: prev?.since ?? this.#now(),
      count: (prev?.count ?? 0) + 1,
    };
    return error;
  }

  #recorded(error: unknown, operation: string): unknown {
    const code = sqliteCode(error);
    if (code === undefined) return error;
    const prev = this.#write;
    let changesAtFailure = prev?.changesAtFailure ?? 0;
    try {
      changesAtFailure = this.#changes.get() as number;
    } catch {
      // The connection cannot even read: keep the previous mark.
    }
    this.#write = {
      operation,
      code,
      message: error instanceof Error ? error.message : String(error),
      since: prev?.since ?? this.#now(),
      count: (prev?.count ?? 0) + 1,
      changesAtFailure,
    };
    return error;
  }

  /** The write fault still standing (cleared once a write succeeded after it), if any. */
  get write(): StoreFault | undefined {
    const fault = this.#write;
    if (fault === undefined) return undefined;
    let changes: number | undefined;
    try {
      changes = this.#changes.get() as number;
    } catch {
      changes = undefined;
    }
    if (changes !== undefined && changes > fault.changesAtFailure) {
      this.#write = undefined;
      return undefined;
    }
    const { changesAtFailure: _, ...rest } = fault;
    return rest;
  }

  /**
   * The store's health: `fail` while writes fail for a store-side reason or claims keep failing,
   * `warn` after a claim or two failed, `pass` otherwise.
   */
  health(): HealthResult {
    const write = this.write;
    const claim = this.claim;
    if (write) {
      return {
        status: 'fail',
        output: `writes are failing since ${new Date(write.since).toISOString()} (${write.count}x, last: ${write.operation}: ${write.code}: ${write.message}); this clears after the next successful write`,
      };
    }
    if (claim) {
      return {
        status: claim.count >= CLAIM_FAILURES_TO_FAIL ? 'fail' : 'warn',
        output: `claiming tasks failed ${claim.count}x in a row since ${new Date(claim.since).toISOString()} (last: ${claim.code}: ${claim.message}); no task can start`,
      };
    }
    return { status: 'pass' };
  }
}
