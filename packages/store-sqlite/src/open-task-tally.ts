import type BetterSqlite3 from 'better-sqlite3';
import type { StoreFaults } from './faults.js';

/** Pending and running tasks per priority (0 to 3), as `stats()` reports them. */
export interface OpenTaskFigures {
  pending: number[];
  running: number[];
}

/** A walk's figures and the state of the connection they are exact for. */
interface KeptFigures extends OpenTaskFigures {
  /** `total_changes()` of the connection that the figures account for. */
  changes: number;
  /** `PRAGMA data_version` at the walk: it moves when another connection commits. */
  version: number;
}

/**
 * Beyond this many tasks claimed by this connection and not seen ending, the claims' priorities
 * are forgotten (tasks ended by another connection leave entries behind; a forgotten task's end
 * costs one walk).
 */
const MAX_REMEMBERED_CLAIMS = 100_000;

const tallies = new WeakMap<BetterSqlite3.Database, OpenTaskTally>();

/**
 * Pending and running tasks per priority for `stats()`, kept in memory between walks of the open
 * tasks' index (90 to 320 ms per million open tasks on a loaded 2-core VM, a stall of the event
 * loop) and moved by this connection's own committed writes, so a scrape of a deep queue that a
 * runner is draining costs a few rows, not a walk, and the hot path writes no counter.
 *
 * Exact by construction: the figures are used only while every change the connection made since
 * the walk is one the store accounted for. Each store write runs between {@link begin} and
 * {@link end}, which read the connection's `total_changes()` (about 0.06 µs): a write by anything
 * else on the connection moves that count unaccounted, a write inside a caller's transaction (which
 * may still roll back) or one whose effect the store cannot name drops the figures, and another
 * connection's commit moves `PRAGMA data_version`. In each case the next read walks again.
 * A write that fails before `end` leaves its changes unaccounted, so a rolled-back write is never
 * counted. One tally per connection ({@link OpenTaskTally.of}), shared by the task, session and
 * state stores, so their writes (which never change a task's status) do not force a walk.
 *
 * @example
 * ```ts
 * const tally = OpenTaskTally.of(db);
 * const before = tally.begin();
 * claimTx.immediate(request); // calls tally.claimed(seq, priority) per claimed row
 * tally.end(before);
 * ```
 */
export class OpenTaskTally {
  /** The tally of `db`'s connection, created on first use. */
  static of(db: BetterSqlite3.Database): OpenTaskTally {
    let tally = tallies.get(db);
    if (!tally) {
      tally = new OpenTaskTally(db);
      tallies.set(db, tally);
    }
    return tally;
  }

  readonly #db: BetterSqlite3.Database;
  readonly #totalChanges: BetterSqlite3.Statement;
  readonly #dataVersion: BetterSqlite3.Statement;
  #kept: KeptFigures | undefined;
  /** The moves of the write between begin() and end(), applied only if it committed. */
  readonly #pendingMoves = [0, 0, 0, 0];
  readonly #runningMoves = [0, 0, 0, 0];
  #unnamed = false;
  /** Priority of each task this connection claimed, until it sees the task end. */
  readonly #claimedPriority = new Map<number, number>();

  private constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    this.#totalChanges = db.prepare('SELECT total_changes()').pluck();
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
  }

  #walks = 0;

  /** How many times the open tasks' index was walked on this connection (for tests and benches). */
  get walks(): number {
    return this.#walks;
  }

  /** Call before a write of the store; returns the mark to hand to {@link end}. */
  begin(): number {
    const p = this.#pendingMoves;
    const r = this.#runningMoves;
    p[0] = p[1] = p[2] = p[3] = 0;
    r[0] = r[1] = r[2] = r[3] = 0;
    this.#unnamed = false;
    // Nothing kept (a store never asked for stats, or one that must walk anyway): nothing to check.
    return this.#kept === undefined ? -1 : (this.#totalChanges.get() as number);
  }

  /** Call after the write returned: applies its moves if it was the only change since the mark. */
  end(before: number): void {
    const kept = this.#kept;
    if (kept === undefined) return;
    if (this.#unnamed || before !== kept.changes || this.#db.inTransaction) {
      this.#kept = undefined;
      return;
    }
    for (let p = 0; p < 4; p++) {
      kept.pending[p] = (kept.pending[p] as number) + (this.#pendingMoves[p] as number);
      kept.running[p] = (kept.running[p] as number) + (this.#runningMoves[p] as number);
    }
    kept.changes = this.#totalChanges.get() as number;
  }

  /** Runs a write that changes no task's status (sessions, state, replies) between begin and end. */
  unrelated<T>(write: () => T): T {
    const before = this.begin();
    const result = write();
    this.end(before);
    return result;
  }

  /** A task was inserted pending, or released from hold. */
  added(priority: number): void {
    this.#move(this.#pendingMoves, priority, 1);
  }

  /** A pending task left the open tasks (held or cancelled). */
  withdrawn(priority: number): void {
    this.#move(this.#pendingMoves, priority, -1);
  }

  /** A pending task was claimed: it runs now. */
  claimed(seq: number, priority: number): void {
    this.#move(this.#pendingMoves, priority, -1);
    this.#move(this.#runningMoves, priority, 1);
    if (this.#claimedPriority.size >= MAX_REMEMBERED_CLAIMS) this.#claimedPriority.clear();
    this.#claimedPriority.set(seq, priority);
  }

  /**
   * A running task ended (completed, failed, cancelled), or went back to pending (`requeued`).
   * Without its priority, the one remembered from its claim; if none, the write is unnamed.
   */
  stopped(seq: number, requeued: boolean, priority = this.#claimedPriority.get(seq)): void {
    this.#claimedPriority.delete(seq);
    if (priority === undefined) {
      this.#unnamed = true;
      return;
    }
    this.#move(this.#runningMoves, priority, -1);
    if (requeued) this.#move(this.#pendingMoves, priority, 1);
  }

  /** The write changed open tasks in a way it cannot name: the next read walks. */
  unnamed(): void {
    this.#unnamed = true;
  }

  #move(moves: number[], priority: number, by: number): void {
    if (priority >= 0 && priority <= 3) moves[priority] = (moves[priority] as number) + by;
  }

  /**
   * The open tasks' figures: the kept ones while they are exact for this connection's view, else
   * `walk()`'s, kept for later if `keep`. Call inside the read transaction `walk` runs in; pass
   * `keep: false` when that transaction is the caller's own, which may still write and roll back
   * (total_changes would not show it).
   */
  read(walk: () => OpenTaskFigures, keep: boolean): OpenTaskFigures {
    const changes = this.#totalChanges.get() as number;
    const version = this.#dataVersion.get() as number;
    const kept = this.#kept;
    if (kept && kept.changes === changes && kept.version === version && sane(kept)) return kept;
    const figures = walk();
    this.#walks++;
    this.#kept = keep ? { ...figures, changes, version } : undefined;
    return figures;
  }
}

/** Negative figures mean a move was misnamed: never report them, walk instead. */
function sane(figures: OpenTaskFigures): boolean {
  for (let p = 0; p < 4; p++) {
    if ((figures.pending[p] as number) < 0 || (figures.running[p] as number) < 0) return false;
  }
  return true;
}

/**
 * `write` run between `tally`'s begin and end: a function to call (and to retry) in its place,
 * made once, so a call allocates no closure.
 */
export function counted<A extends unknown[], R>(
  tally: OpenTaskTally,
  write: (...args: A) => R,
): (...args: A) => R {
  return (...args: A): R => {
    const before = tally.begin();
    const result = write(...args);
    tally.end(before);
    return result;
  };
}

/**
 * Runs a write that moves no task (a session's, a state value's) as {@link OpenTaskTally.unrelated},
 * waiting out another process's lock and recording store faults through `faults` (see
 * {@link StoreFaults.retry}).
 */
export async function writeMovingNoTask<T>(
  tally: OpenTaskTally,
  faults: StoreFaults,
  operation: string,
  write: () => T,
): Promise<T> {
  try {
    return tally.unrelated(write);
  } catch (error) {
    return faults.retry(error, operation, tally, tally.unrelated, write);
  }
}
