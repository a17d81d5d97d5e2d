import { emptyTaskStats, type TaskStats } from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './migrations.js';

/**
 * Migration 0007: tasks counted by status and priority in `task_counts`, kept by triggers in
 * the same transaction as every insert, status change and delete, so a scrape reads 20 rows
 * instead of counting a million (a `GROUP BY status` over the table took about 210 ms with
 * 1,000,000 tasks on a 2-core VM). Triggers rather than code in the store: a CLI in another
 * process (`agentd enqueue`, `agentd tasks prune`) writes the same file and keeps the counts
 * right too. A trigger costs one small upsert per change, on a page the transaction touches
 * anyway after the first task. A later migration that rebuilds `tasks` must recreate them.
 */
export const TASK_COUNTS_MIGRATION: Migration = {
  name: '0007_task_counts',
  up(db) {
    db.exec(`
      CREATE TABLE task_counts (
        status TEXT NOT NULL,
        priority INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (status, priority)
      ) WITHOUT ROWID;
      INSERT INTO task_counts (status, priority, n)
        SELECT status, priority, count(*) FROM tasks GROUP BY status, priority;
      CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO task_counts (status, priority, n) VALUES (NEW.status, NEW.priority, 1)
          ON CONFLICT (status, priority) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
        UPDATE task_counts SET n = n - 1 WHERE status = OLD.status AND priority = OLD.priority;
      END;
      CREATE TRIGGER task_counts_update AFTER UPDATE OF status, priority ON tasks
        WHEN OLD.status IS NOT NEW.status OR OLD.priority IS NOT NEW.priority BEGIN
        UPDATE task_counts SET n = n - 1 WHERE status = OLD.status AND priority = OLD.priority;
        INSERT INTO task_counts (status, priority, n) VALUES (NEW.status, NEW.priority, 1)
          ON CONFLICT (status, priority) DO UPDATE SET n = n + 1;
      END;
    `);
  },
};

/**
 * Migration 0008: the counts leave the write transaction. The triggers of 0007 cost about
 * 10 µs of CPU per complete-and-claim (46 against 36 µs, a fifth of the unbatched burn-down),
 * mostly because every commit also wrote the `task_counts` page. Each connection now gathers
 * its changes in a TEMP table through TEMP triggers (in memory, no journal, no page written to
 * the file) and adds them to `task_counts` about once a second and when it closes; see
 * {@link SqliteTaskStats}. `task_count_writers` lists the connections that may hold changes
 * not added yet, so the next one to open after a crash knows to count again.
 */
export const TASK_COUNTS_IN_PROCESS_MIGRATION: Migration = {
  name: '0008_task_counts_in_process',
  up(db) {
    db.exec(`
      DROP TRIGGER task_counts_insert;
      DROP TRIGGER task_counts_delete;
      DROP TRIGGER task_counts_update;
      CREATE TABLE task_count_writers (
        id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL
      ) WITHOUT ROWID;
    `);
  },
};

// Per connection: temp objects live in the connection's own in-memory temp database, and a
// temp trigger on main.tasks fires only for this connection's writes. Rolled back with them.
const DELTA_SQL = `
  CREATE TEMP TABLE IF NOT EXISTS task_count_deltas (
    status TEXT NOT NULL,
    priority INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (status, priority)
  ) WITHOUT ROWID;
  CREATE TEMP TRIGGER IF NOT EXISTS task_count_deltas_insert AFTER INSERT ON main.tasks BEGIN
    INSERT INTO task_count_deltas (status, priority, n) VALUES (NEW.status, NEW.priority, 1)
      ON CONFLICT (status, priority) DO UPDATE SET n = n + 1;
  END;
  CREATE TEMP TRIGGER IF NOT EXISTS task_count_deltas_delete AFTER DELETE ON main.tasks BEGIN
    INSERT INTO task_count_deltas (status, priority, n) VALUES (OLD.status, OLD.priority, -1)
      ON CONFLICT (status, priority) DO UPDATE SET n = n - 1;
  END;
  CREATE TEMP TRIGGER IF NOT EXISTS task_count_deltas_update AFTER UPDATE OF status, priority ON main.tasks
    WHEN (OLD.status IS NOT NEW.status OR OLD.priority IS NOT NEW.priority) AND NOT (
      OLD.priority = NEW.priority AND (
        (OLD.status = 'pending' AND NEW.status = 'running') OR
        (OLD.status = 'running' AND NEW.status = 'completed'))) BEGIN
    INSERT INTO task_count_deltas (status, priority, n) VALUES (OLD.status, OLD.priority, -1)
      ON CONFLICT (status, priority) DO UPDATE SET n = n - 1;
    INSERT INTO task_count_deltas (status, priority, n) VALUES (NEW.status, NEW.priority, 1)
      ON CONFLICT (status, priority) DO UPDATE SET n = n + 1;
  END;`;

// The two transitions of the hot path (claim: pending to running; complete: running to
// completed) are left out of the trigger above and counted in JS by the store's own code, which
// knows the task's priority (from the claimed row) without another statement; see stage().

// Each open connection's flush, so a backup (which copies the file, not this process's memory)
// can add the gathered changes first.
const flushers = new WeakMap<BetterSqlite3.Database, () => void>();

/**
 * Adds the task counts this connection gathered to the file now; for a backup, which copies the
 * file and not the process's memory.
 *
 * @example
 * ```ts
 * flushTaskCounts(db);
 * await db.backup('/srv/agentd/backups/copy.db');
 * ```
 */
export function flushTaskCounts(db: BetterSqlite3.Database): void {
  flushers.get(db)?.();
}

/** How often a connection adds its gathered changes to `task_counts`. */
const FLUSH_EVERY_MS = 1000;

// The oldest pending task per priority, from the open tasks' index in claim order (priority,
// run_at): four probes that step over the few running entries ahead, whatever the queue's size.
const OLDEST_PENDING_SQL = `
  SELECT min(v) FROM (
    SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 0 AND status = 'pending' ORDER BY run_at LIMIT 1) AS v
    UNION ALL SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 1 AND status = 'pending' ORDER BY run_at LIMIT 1)
    UNION ALL SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 2 AND status = 'pending' ORDER BY run_at LIMIT 1)
    UNION ALL SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 3 AND status = 'pending' ORDER BY run_at LIMIT 1)
  )`;

/**
 * The cheap reads behind `SqliteTaskStore.stats()` and `counts()`, and the per-connection
 * bookkeeping that keeps them cheap for writers too.
 *
 * Exact for this connection's own writes at once (its pending changes are added on read);
 * another process's writes show within about a second (its next flush) and always after it
 * closes. A process that dies keeps its last second of changes from `task_counts`: the next
 * connection to open, finding it gone from `task_count_writers` with no other writer alive,
 * counts the table again (one `GROUP BY`, about 200 ms per million tasks, at open only).
 */
export class SqliteTaskStats {
  readonly #db: BetterSqlite3.Database;
  readonly #counts: BetterSqlite3.Statement;
  readonly #oldest: BetterSqlite3.Statement;
  readonly #anyDelta: BetterSqlite3.Statement;
  readonly #flush: () => void;
  readonly #id = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  #timer: NodeJS.Timeout | undefined;
  // Hot-path changes not added to task_counts yet, [status][priority]; and those of the
  // transaction in progress, applied only if it gets to its end (see stage() and commit()).
  readonly #deltas = freshDeltas();
  readonly #staged: [from: HotStatus, to: HotStatus, priority: number][] = [];
  // Priorities of the tasks this connection claimed, so completing one needs no lookup.
  readonly #claimedPriority = new Map<number, number>();
  readonly #priorityOf: BetterSqlite3.Statement;

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    db.exec(DELTA_SQL);
    this.#counts = db.prepare(`
      SELECT status, priority, sum(n) AS n FROM (
        SELECT status, priority, n FROM main.task_counts
        UNION ALL SELECT status, priority, n FROM temp.task_count_deltas
      ) GROUP BY status, priority`);
    this.#oldest = db.prepare(OLDEST_PENDING_SQL).pluck();
    this.#priorityOf = db.prepare('SELECT priority FROM tasks WHERE seq = ?').pluck();
    this.#anyDelta = db
      .prepare('SELECT 1 FROM temp.task_count_deltas WHERE n <> 0 LIMIT 1')
      .pluck();
    const add = db.prepare(`
      INSERT INTO main.task_counts (status, priority, n)
        SELECT status, priority, n FROM temp.task_count_deltas WHERE n <> 0
        ON CONFLICT (status, priority) DO UPDATE SET n = n + excluded.n`);
    const clear = db.prepare('DELETE FROM temp.task_count_deltas');
    const addOne = db.prepare(`
      INSERT INTO main.task_counts (status, priority, n) VALUES (?, ?, ?)
        ON CONFLICT (status, priority) DO UPDATE SET n = n + excluded.n`);
    this.#flush = db.transaction(() => {
      add.run();
      clear.run();
      for (const status of HOT_STATUSES) {
        const row = this.#deltas[status];
        for (let priority = 0; priority < 4; priority++) {
          const n = row[priority] ?? 0;
          if (n !== 0) addOne.run(status, priority, n);
        }
      }
      // Zeroed only once the transaction's statements all ran: a failed flush keeps them.
    }).immediate;
    if (!db.readonly) {
      this.#register();
      this.#timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
      flushers.set(db, () => this.flush());
      this.#timer.unref();
    }
  }

  /** Notes a claimed task (pending to running), to take effect when {@link commit} runs. */
  claimed(seq: number, priority: number): void {
    if (this.#claimedPriority.size >= 65_536) this.#claimedPriority.clear();
    this.#claimedPriority.set(seq, priority);
    this.#staged.push(['pending', 'running', priority]);
  }

  /**
   * The priority of a task about to be completed (from this connection's claims, else one
   * primary-key read), to pass to {@link completed}; undefined when there is no such task.
   */
  priorityOf(seq: number): number | undefined {
    return this.#claimedPriority.get(seq) ?? (this.#priorityOf.get(seq) as number | undefined);
  }

  /** Notes a completed task (running to completed), to take effect when {@link commit} runs. */
  completed(seq: number, priority: number): void {
    this.#claimedPriority.delete(seq);
    this.#staged.push(['running', 'completed', priority]);
  }

  /** Forgets what was staged: call as a write transaction starts. */
  begin(): void {
    this.#staged.length = 0;
  }

  /** Applies what was staged: call as the write transaction's last step. */
  commit(): void {
    for (const [from, to, priority] of this.#staged) {
      const left = this.#deltas[from];
      const entered = this.#deltas[to];
      left[priority] = (left[priority] ?? 0) - 1;
      entered[priority] = (entered[priority] ?? 0) + 1;
    }
    this.#staged.length = 0;
  }

  /** Tasks by status and priority, and the oldest pending task's run-at if due by `now`. */
  read(now: number): TaskStats {
    const stats = emptyTaskStats();
    for (const row of this.#counts.all() as { status: string; priority: number; n: number }[]) {
      const byPriority = stats.byPriority[row.status as keyof TaskStats['byPriority']];
      if (byPriority && row.priority >= 0 && row.priority <= 3) {
        byPriority[row.priority as 0 | 1 | 2 | 3] = row.n;
      }
    }
    for (const status of HOT_STATUSES) {
      for (let p = 0; p < 4; p++)
        stats.byPriority[status][p as 0 | 1 | 2 | 3] += this.#deltas[status][p] ?? 0;
    }
    const oldest = this.#oldest.get() as number | null;
    stats.oldestRunnableAt = oldest !== null && oldest <= now ? oldest : null;
    return stats;
  }

  /**
   * Adds this connection's gathered changes to `task_counts`. A busy database (or a closed one)
   * leaves them for the next try: they stay in the temp table, nothing is lost.
   */
  flush(): void {
    if (!this.#db.open) return;
    if (this.#anyDelta.get() === undefined && !hasAny(this.#deltas)) return;
    try {
      this.#flush();
      zero(this.#deltas);
    } catch {
      // SQLITE_BUSY and the like: the next tick (or close) tries again.
    }
  }

  /** Flushes for good and leaves `task_count_writers`; call before the connection closes. */
  close(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#db.open) return;
    try {
      this.#db
        .transaction(() => {
          this.#flush();
          zero(this.#deltas);
          this.#db.prepare('DELETE FROM task_count_writers WHERE id = ?').run(this.#id);
        })
        .immediate();
    } catch {
      // Left registered: the next connection to open after this process is gone counts again.
    }
  }

  // Joins the writers; recounts first when a writer died with changes not added and no live
  // writer may still hold some (a recount then would count theirs twice when they flush).
  #register(): void {
    this.#db
      .transaction(() => {
        const writers = this.#db.prepare('SELECT id, pid FROM task_count_writers').all() as {
          id: string;
          pid: number;
        }[];
        const dead = writers.filter((w) => !isAlive(w.pid));
        if (dead.length > 0 && dead.length === writers.length) {
          this.#db.exec(`
          DELETE FROM task_count_writers;
          DELETE FROM main.task_counts;
          INSERT INTO main.task_counts (status, priority, n)
            SELECT status, priority, count(*) FROM tasks GROUP BY status, priority;`);
        }
        this.#db
          .prepare('INSERT INTO task_count_writers (id, pid) VALUES (?, ?)')
          .run(this.#id, process.pid);
      })
      .immediate();
  }
}

type HotStatus = 'pending' | 'running' | 'completed';
const HOT_STATUSES: readonly HotStatus[] = ['pending', 'running', 'completed'];
type Deltas = Record<HotStatus, number[]>;
const freshDeltas = (): Deltas => ({
  pending: [0, 0, 0, 0],
  running: [0, 0, 0, 0],
  completed: [0, 0, 0, 0],
});
const hasAny = (d: Deltas) => HOT_STATUSES.some((s) => d[s].some((n) => n !== 0));
const zero = (d: Deltas) => {
  for (const s of HOT_STATUSES) d[s].fill(0);
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
