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

// The oldest pending task per priority, from the open tasks' index in claim order (priority,
// run_at): four probes that step over the few running entries ahead, whatever the queue's size.
const OLDEST_PENDING_SQL = `
  SELECT min(v) FROM (
    SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 0 AND status = 'pending' ORDER BY run_at LIMIT 1) AS v
    UNION ALL SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 1 AND status = 'pending' ORDER BY run_at LIMIT 1)
    UNION ALL SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 2 AND status = 'pending' ORDER BY run_at LIMIT 1)
    UNION ALL SELECT (SELECT run_at FROM tasks INDEXED BY tasks_open WHERE priority = 3 AND status = 'pending' ORDER BY run_at LIMIT 1)
  )`;

/** The cheap reads behind `SqliteTaskStore.stats()` and `counts()`. */
export class SqliteTaskStats {
  readonly #counts: BetterSqlite3.Statement;
  readonly #oldest: BetterSqlite3.Statement;

  constructor(db: BetterSqlite3.Database) {
    this.#counts = db.prepare('SELECT status, priority, n FROM task_counts WHERE n <> 0');
    this.#oldest = db.prepare(OLDEST_PENDING_SQL).pluck();
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
    const oldest = this.#oldest.get() as number | null;
    stats.oldestRunnableAt = oldest !== null && oldest <= now ? oldest : null;
    return stats;
  }
}
