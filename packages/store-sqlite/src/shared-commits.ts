import type BetterSqlite3 from 'better-sqlite3';
import type { StoreFaults } from './faults.js';
import { OpenTaskTally } from './open-task-tally.js';

interface QueuedWrite {
  operation: string;
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Writes folded into one commit at most: a bound on how long the write lock is held at once. */
const MAX_SHARED = 256;

/**
 * One commit for the small single-statement writes that many callers make side by side (a
 * Telegram reply's delivery record, its outbox "sent" mark): each call waits for the end of the
 * event loop's current turn, then the writes queued in that turn run in one write transaction,
 * and each call resolves once that transaction committed. A write is durable when its promise
 * resolves, as before; only the commit is shared. With the WAL, a commit costs more than the
 * statement (the pages it touched are appended to the log, and tasks and replies touch the same
 * pages), so a reply path of two commits per message pays a fraction of one when replies go out
 * together.
 *
 * A write is queued, not run, until the flush, so no reader ever sees it before it is committed.
 * When the shared transaction fails (another process holds the lock past the wait in place, the
 * disk is full, one write breaks a constraint), nothing of it stays and each write runs again on
 * its own, as if it had never been queued: each caller gets its own outcome, another process's
 * lock is waited out as for any write (see {@link StoreFaults.retry}), and faults are recorded
 * for the health check.
 *
 * @example
 * ```ts
 * const commits = new SharedCommits(db, faults);
 * await commits.write('state.set', () => upsert.run(params)); // committed with this turn's others
 * ```
 */
export class SharedCommits {
  readonly #db: BetterSqlite3.Database;
  readonly #faults: StoreFaults;
  #queue: QueuedWrite[] = [];
  readonly #runAll: (writes: readonly QueuedWrite[]) => unknown[];
  readonly #tally: OpenTaskTally;

  constructor(db: BetterSqlite3.Database, faults: StoreFaults) {
    this.#db = db;
    this.#faults = faults;
    // Writes queued here change no task's status (reply records, state): counted as such, so
    // `stats()` need not walk the open tasks after them (see OpenTaskTally).
    this.#tally = OpenTaskTally.of(db);
    const runAll = db.transaction((writes: readonly QueuedWrite[]) => writes.map((w) => w.write()));
    this.#runAll = (writes) => this.#tally.unrelated(() => runAll.immediate(writes));
  }

  /** Runs `write` (one statement) in this turn's shared transaction; resolves once committed. */
  write<T>(operation: string, write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queue = this.#queue;
      queue.push({ operation, write, resolve: resolve as (value: unknown) => void, reject });
      if (queue.length === 1) setImmediate(() => this.flush());
      else if (queue.length >= MAX_SHARED) this.flush();
    });
  }

  /** Writes what is queued now, without waiting for the turn's end (the store calls it at close). */
  flush(): void {
    const writes = this.#queue;
    if (writes.length === 0) return;
    this.#queue = [];
    // Alone, or inside a transaction a caller runs synchronously (cannot happen from a timer, but
    // costs nothing to respect): no shared commit to make.
    if (writes.length > 1 && !this.#db.inTransaction) {
      let results: unknown[] | undefined;
      try {
        results = this.#runAll(writes);
      } catch {
        // Rolled back whole: each write runs again on its own below, for its own outcome.
      }
      if (results) {
        for (let i = 0; i < writes.length; i++) writes[i]?.resolve(results[i]);
        return;
      }
    }
    for (const w of writes) void this.#alone(w);
  }

  async #alone(w: QueuedWrite): Promise<void> {
    try {
      let result: unknown;
      const tally = this.#tally;
      try {
        result = tally.unrelated(w.write);
      } catch (error) {
        result = await this.#faults.retry(error, w.operation, tally, tally.unrelated, w.write);
      }
      w.resolve(result);
    } catch (error) {
      w.reject(error);
    }
  }
}
