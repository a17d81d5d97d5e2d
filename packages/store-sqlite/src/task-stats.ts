import { emptyTaskStats, type TaskStats } from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import type { Migration } from './migrations.js';
import type { OpenTaskFigures, OpenTaskTally } from './open-task-tally.js';

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
 * Migration 0008: a batch of inserts counts itself. The insert trigger of 0007 ran once per row,
 * which cost about a fifth of a batch insert's SQLite time (measured: 2.4 µs per row without
 * the trigger against 3.0 µs with it, 16-row statements). Now the trigger stands aside while the
 * inserting transaction holds a row in `task_counts_deferred`, and that transaction adds its own
 * tallies to `task_counts` (one upsert per status and priority) before it deletes the row and
 * commits: the row is never committed, so other connections, and this one outside such a
 * transaction, always see the trigger at work. A kill mid-batch rolls back rows, tallies and
 * marker together. Only {@link TaskInserter}'s batches set the marker; single inserts, answers,
 * imports, and every status change and delete keep the triggers of 0007. Still generic by
 * status: a tally names its status, and the upsert creates a row for a status not seen before.
 */
export const TASK_COUNTS_BATCH_MIGRATION: Migration = {
  name: '0008_task_counts_batch_tallies',
  up(db) {
    db.exec(`
      CREATE TABLE task_counts_deferred (holder INTEGER PRIMARY KEY);
      DROP TRIGGER task_counts_insert;
      CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks
        WHEN NOT EXISTS (SELECT 1 FROM task_counts_deferred) BEGIN
        INSERT INTO task_counts (status, priority, n) VALUES (NEW.status, NEW.priority, 1)
          ON CONFLICT (status, priority) DO UPDATE SET n = n + 1;
      END;
    `);
  },
};

/**
 * The statement that adds inserted tasks to `task_counts`: the count key (see {@link countKey}),
 * the priority, how many. Since migration 0011 every insert into `tasks` runs it, in the
 * inserting transaction.
 */
export const ADD_TO_TASK_COUNT_SQL = `INSERT INTO task_counts (status, priority, n) VALUES (?, ?, ?)
  ON CONFLICT (status, priority) DO UPDATE SET n = n + excluded.n`;

/**
 * The key under which `task_counts` keeps, since migration 0010, one count per priority for the
 * three statuses a task moves between on the hot path (claimed, completed, retried or recovered):
 * pending, running and completed together. `stats()` splits it at read time with a walk of the
 * open tasks' index (pending and running); completed is the rest.
 */
export const HOT_STATUSES_KEY = 'pending|running|completed';

/**
 * The `task_counts` key a task of `status` is counted under: the hot three share
 * {@link HOT_STATUSES_KEY}, any other status is its own key.
 *
 * @example
 * ```ts
 * countKey('running'); // 'pending|running|completed'
 * countKey('failed'); // 'failed'
 * ```
 */
export function countKey(status: string): string {
  return status === 'pending' || status === 'running' || status === 'completed'
    ? HOT_STATUSES_KEY
    : status;
}

// The count key of a status in SQL, as countKey() gives it.
const keyOf = (row: 'NEW' | 'OLD') =>
  `CASE WHEN ${row}.status = 'pending' OR ${row}.status = 'running' OR ${row}.status = 'completed' THEN '${HOT_STATUSES_KEY}' ELSE ${row}.status END`;

/**
 * Migration 0010: no counter write on the hot path. With 0007's triggers, every claim and every
 * completion moved a count between two rows of `task_counts`, which dirtied that table's page in
 * every complete-and-claim transaction: one more WAL frame each (two more `pwrite64`, strace),
 * about a fifth of the CPU of the unbatched burn-down of no-op tasks. Now pending, running and
 * completed share one count per priority ({@link HOT_STATUSES_KEY}), so the triggers fire only
 * when a task enters or leaves that group (an insert, a delete, a hold or release, a
 * cancellation, a failure): a claim, a completion, a retry and a lease recovery to pending write
 * nothing to `task_counts`. `stats()` reads pending and running from the open tasks' index (90 to
 * 320 ms per million open tasks on a loaded 2-core VM; kept in memory and moved by the store's own
 * writes between walks, see {@link OpenTaskTally}) and completed as the group's count less those two, in one read
 * transaction, so every figure stays exact, across kills too: the counts still change only in
 * the transactions that change the rows. Existing counts are folded, not recounted (O(1)).
 */
export const TASK_COUNTS_HOT_PATH_MIGRATION: Migration = {
  name: '0010_task_counts_off_hot_path',
  up(db) {
    db.exec(`
      DROP TRIGGER task_counts_insert;
      DROP TRIGGER task_counts_delete;
      DROP TRIGGER task_counts_update;
      INSERT INTO task_counts (status, priority, n)
        SELECT '${HOT_STATUSES_KEY}', priority, sum(n) FROM task_counts
          WHERE status = 'pending' OR status = 'running' OR status = 'completed'
          GROUP BY priority;
      DELETE FROM task_counts
        WHERE status = 'pending' OR status = 'running' OR status = 'completed';
      CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks
        WHEN NOT EXISTS (SELECT 1 FROM task_counts_deferred) BEGIN
        INSERT INTO task_counts (status, priority, n) VALUES (${keyOf('NEW')}, NEW.priority, 1)
          ON CONFLICT (status, priority) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
        UPDATE task_counts SET n = n - 1 WHERE status = ${keyOf('OLD')} AND priority = OLD.priority;
      END;
      CREATE TRIGGER task_counts_update AFTER UPDATE OF status, priority ON tasks
        WHEN ${keyOf('OLD')} IS NOT ${keyOf('NEW')} OR OLD.priority IS NOT NEW.priority BEGIN
        UPDATE task_counts SET n = n - 1 WHERE status = ${keyOf('OLD')} AND priority = OLD.priority;
        INSERT INTO task_counts (status, priority, n) VALUES (${keyOf('NEW')}, NEW.priority, 1)
          ON CONFLICT (status, priority) DO UPDATE SET n = n + 1;
      END;
    `);
  },
};

/**
 * Migration 0011: inserts are counted by the code that inserts, not by a trigger. SQLite writes
 * the rows of a multi-row `INSERT ... VALUES` into a temporary table first whenever the table
 * has a row trigger, whatever the trigger's WHEN says, and then calls the trigger's program per
 * row: with 0008's marker set, that was still a quarter of SQLite's instructions per row of a
 * 16-row batch insert (callgrind: 17,900 against 13,300 per row, bindings included). Every
 * insert into `tasks` in this package now adds to `task_counts` itself, in the same
 * transaction: a batch its tallies (as since 0008), a single enqueue, an answer and an import
 * their row's count ({@link ADD_TO_TASK_COUNT_SQL}), so a count still changes only with its
 * rows, across kills too. The delete and update triggers stay (rare paths, and SQL run by hand
 * on a status or a delete keeps the counts right); a task inserted by hand with plain SQL is no
 * longer counted. The marker table of 0008 goes with the trigger.
 */
export const TASK_COUNTS_INSERTS_IN_CODE_MIGRATION: Migration = {
  name: '0011_task_counts_inserts_in_code',
  up(db) {
    db.exec(`
      DROP TRIGGER task_counts_insert;
      DROP TABLE task_counts_deferred;
    `);
  },
};

/**
 * Migration 0012: status changes are counted by the code that makes them, not by a trigger.
 * 0010's `task_counts_update` fired on every `UPDATE OF status`, so on every claim and every
 * completion, where its `WHEN` is always false (both stay inside {@link HOT_STATUSES_KEY}): the
 * trigger's program still ran per row, about 4.5 % of the CPU of the unbatched burn-down of no-op
 * tasks (`bench/metrics-cost.mjs`, counters against bare, 2026-12-04). Every statement of this
 * package that can move a task between count keys (a failure for good, a lease recovered into a
 * failure, a task that cannot be read failed by its claim, a cancel, a hold, a release) now moves
 * the count itself in the same transaction ({@link MoveTaskCount}), so a count still changes only
 * with its row, across kills too. No statement of the store changes a task's priority. The
 * delete trigger stays: prune deletes many rows in one statement, off the hot path. As with 0011
 * for inserts, a status changed by hand with plain SQL is no longer counted.
 */
export const TASK_COUNTS_STATUS_IN_CODE_MIGRATION: Migration = {
  name: '0012_task_counts_status_changes_in_code',
  up(db) {
    db.exec('DROP TRIGGER task_counts_update;');
  },
};

/**
 * Moves one task's count from the key of the status it had to the key of the status it has now,
 * for the store's writes that change a status outside the hot three (see
 * {@link TASK_COUNTS_STATUS_IN_CODE_MIGRATION}). Call it inside the writing transaction, after
 * the row changed.
 *
 * @example
 * ```ts
 * const move = new MoveTaskCount(db);
 * move.run('running', 'failed', 2); // one task of priority 2 failed for good
 * ```
 */
export class MoveTaskCount {
  readonly #add: BetterSqlite3.Statement;

  constructor(db: BetterSqlite3.Database) {
    this.#add = db.prepare(ADD_TO_TASK_COUNT_SQL);
  }

  run(from: string, to: string, priority: number): void {
    const fromKey = countKey(from);
    const toKey = countKey(to);
    if (fromKey === toKey) return;
    this.#add.run(fromKey, priority, -1);
    this.#add.run(toKey, priority, 1);
  }
}

// The oldest pending task per priority, from the open tasks' index in claim order (priority,
// run_at): four probes that step over the few running entries ahead, whatever the queue's size.
const OLDEST_PENDING_SQL = `
  SELECT min(v) FROM (
    SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 0 AND status = 'pending' ORDER BY run_at LIMIT 1) AS v
    UNION ALL SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 1 AND status = 'pending' ORDER BY run_at LIMIT 1)
    UNION ALL SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 2 AND status = 'pending' ORDER BY run_at LIMIT 1)
    UNION ALL SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 3 AND status = 'pending' ORDER BY run_at LIMIT 1)
  )`;

// Open tasks per priority, and how many of them run: one walk of the open tasks' index (it holds
// priority and status, so no table reads), in priority order, so no sort.
const OPEN_TASKS_SQL = `
  SELECT priority, count(*) AS open, sum(status = 'running') AS running
    FROM tasks INDEXED BY tasks_open WHERE status = 'pending' OR status = 'running'
    GROUP BY priority`;

type CountRow = { status: string; priority: number; n: number };
type OpenRow = { priority: number; open: number; running: number };

/** The reads behind `SqliteTaskStore.stats()` and `counts()`. */
export class SqliteTaskStats {
  readonly #db: BetterSqlite3.Database;
  readonly #read: (now: number, keep: boolean) => TaskStats;

  /**
   * @param tally the connection's open-task figures: pending and running come from it, which
   * walks the open tasks' index only when the store's own writes cannot account for a change
   * (see {@link OpenTaskTally}).
   */
  constructor(db: BetterSqlite3.Database, tally: OpenTaskTally) {
    this.#db = db;
    const counts = db.prepare('SELECT status, priority, n FROM task_counts WHERE n <> 0');
    const open = db.prepare(OPEN_TASKS_SQL);
    const oldest = db.prepare(OLDEST_PENDING_SQL).pluck();
    const walk = (): OpenTaskFigures => {
      const figures = { pending: [0, 0, 0, 0], running: [0, 0, 0, 0] };
      for (const row of open.all() as OpenRow[]) {
        if (row.priority < 0 || row.priority > 3) continue;
        figures.running[row.priority] = row.running;
        figures.pending[row.priority] = row.open - row.running;
      }
      return figures;
    };
    // One read transaction: the counts and the open tasks' figures see the same commit, so
    // completed (the hot group's count less the open tasks) is exact even while others write.
    this.#read = db.transaction((now: number, keep: boolean): TaskStats => {
      const stats = emptyTaskStats();
      const hot = [0, 0, 0, 0];
      for (const row of counts.all() as CountRow[]) {
        if (row.priority < 0 || row.priority > 3) continue;
        if (row.status === HOT_STATUSES_KEY) {
          hot[row.priority] = row.n;
          continue;
        }
        const byPriority = stats.byPriority[row.status as keyof TaskStats['byPriority']];
        if (byPriority) byPriority[row.priority as 0 | 1 | 2 | 3] = row.n;
      }
      const figures = tally.read(walk, keep);
      for (const p of [0, 1, 2, 3] as const) {
        stats.byPriority.pending[p] = figures.pending[p] as number;
        stats.byPriority.running[p] = figures.running[p] as number;
        stats.byPriority.completed[p] =
          (hot[p] as number) - stats.byPriority.pending[p] - stats.byPriority.running[p];
      }
      const first = oldest.get() as number | null;
      stats.oldestRunnableAt = first !== null && first <= now ? first : null;
      return stats;
    });
  }

  /**
   * Tasks by status and priority, and the oldest pending task's run-at if due by `now`. Costs a
   * few rows and four index probes; plus a walk of the open tasks' index (about 30 to 300 ns per
   * pending or running task, by load) when a change since the last read is not one of this
   * store's own writes (another process's commit, a write inside a caller's transaction).
   */
  read(now: number): TaskStats {
    // Inside this connection's own open transaction the walk may see writes that roll back
    // later: read, but do not keep that walk.
    return this.#read(now, !this.#db.inTransaction);
  }
}
