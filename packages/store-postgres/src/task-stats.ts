import { emptyTaskStats, type TaskStats } from '@agentd/core/store';
import type pg from 'pg';
import { inTransaction } from './client.js';
import type { Migration } from './handle.js';

/**
 * Migration: tasks counted by status and priority in `task_counts`, kept by a row trigger on
 * every insert, status change and delete, so `stats()` sums a few rows instead of counting a
 * million. Each connection adds to rows of its own (`slot` is its backend pid): two hosts
 * claiming at once never wait on, or deadlock over, one counter row. `stats()` folds the rows of
 * connections that are gone into slot 0 (one host at a time, under an advisory lock), so the
 * table holds about 20 rows per live connection.
 *
 * The trigger is created before the seed count, in the same transaction: creating it locks
 * `tasks` against writes until commit, so no change falls between the count and the trigger.
 */
export const TASK_STATS_MIGRATION: Migration = {
  name: '0201_task_counts',
  sql: `
CREATE TABLE "{{schema}}".task_counts (
  slot INTEGER NOT NULL,
  status TEXT NOT NULL,
  priority SMALLINT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (slot, status, priority)
);
CREATE FUNCTION "{{schema}}".task_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "{{schema}}".task_counts AS c (slot, status, priority, n)
      VALUES (pg_backend_pid(), NEW.status, NEW.priority, 1)
      ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n + 1;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "{{schema}}".task_counts AS c (slot, status, priority, n)
      VALUES (pg_backend_pid(), OLD.status, OLD.priority, -1)
      ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n - 1;
  ELSE
    -- One statement for both rows of a status change (rows in key order: no lock-order cycle).
    INSERT INTO "{{schema}}".task_counts AS c (slot, status, priority, n)
      SELECT pg_backend_pid(), v.status, v.priority, v.n
      FROM (VALUES (OLD.status, OLD.priority, -1), (NEW.status, NEW.priority, 1)) AS v (status, priority, n)
      ORDER BY v.status, v.priority
      ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER task_counts_insert_delete AFTER INSERT OR DELETE ON "{{schema}}".tasks
  FOR EACH ROW EXECUTE FUNCTION "{{schema}}".task_counts_follow();
CREATE TRIGGER task_counts_update AFTER UPDATE OF status, priority ON "{{schema}}".tasks
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.priority IS DISTINCT FROM NEW.priority)
  EXECUTE FUNCTION "{{schema}}".task_counts_follow();
INSERT INTO "{{schema}}".task_counts (slot, status, priority, n)
  SELECT 0, status, priority, count(*) FROM "{{schema}}".tasks GROUP BY status, priority;
`,
};

/** Folds the rows of connections that are gone into slot 0; sum-neutral, so safe at any time. */
const fold = (counts: string) => `
WITH gone AS (
  DELETE FROM ${counts} c
  WHERE c.slot <> 0 AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = c.slot)
  RETURNING status, priority, n
)
INSERT INTO ${counts} AS c (slot, status, priority, n)
  SELECT 0, status, priority, sum(n) FROM gone GROUP BY status, priority ORDER BY status, priority
  ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n + EXCLUDED.n`;

/** The oldest pending task per priority: four probes of the claim index (priority, run_at). */
const oldest = (tasks: string) => `
SELECT least(
  (SELECT run_at FROM ${tasks} WHERE status = 'pending' AND priority = 0 ORDER BY run_at LIMIT 1),
  (SELECT run_at FROM ${tasks} WHERE status = 'pending' AND priority = 1 ORDER BY run_at LIMIT 1),
  (SELECT run_at FROM ${tasks} WHERE status = 'pending' AND priority = 2 ORDER BY run_at LIMIT 1),
  (SELECT run_at FROM ${tasks} WHERE status = 'pending' AND priority = 3 ORDER BY run_at LIMIT 1)
) AS oldest`;

/** Slots of dead connections folded at most this often (ms): a scrape every second skips it. */
const FOLD_EVERY_MS = 60_000;

/** The cheap reads behind `PostgresTaskStore.stats()`. */
export class PostgresTaskStats {
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #counts: string;
  readonly #sum: string;
  readonly #oldest: string;
  #foldedAt = Number.NEGATIVE_INFINITY;

  constructor(pool: pg.Pool, schema: string, table: (name: string) => string) {
    this.#pool = pool;
    this.#schema = schema;
    this.#counts = table('task_counts');
    this.#sum = `SELECT status, priority, sum(n)::text AS n FROM ${this.#counts} GROUP BY status, priority`;
    this.#oldest = oldest(table('tasks'));
  }

  async read(now: number): Promise<TaskStats> {
    if (performance.now() - this.#foldedAt >= FOLD_EVERY_MS) {
      this.#foldedAt = performance.now();
      await this.#fold();
    }
    const [sums, first] = await Promise.all([
      this.#pool.query<{ status: string; priority: number; n: string }>(this.#sum),
      this.#pool.query<{ oldest: string | null }>(this.#oldest),
    ]);
    const stats = emptyTaskStats();
    for (const row of sums.rows) {
      const byPriority = stats.byPriority[row.status as keyof TaskStats['byPriority']];
      if (byPriority && row.priority >= 0 && row.priority <= 3) {
        byPriority[row.priority as 0 | 1 | 2 | 3] = Number(row.n);
      }
    }
    const at = first.rows[0]?.oldest;
    const runAt = at === null || at === undefined ? null : Number(at);
    stats.oldestRunnableAt = runAt !== null && runAt <= now ? runAt : null;
    return stats;
  }

  /** One host folds at a time; the others skip (the lock is per schema). */
  async #fold(): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<{ ok: boolean }>(
        "SELECT pg_try_advisory_xact_lock(hashtext('agentd.task_counts'), hashtext($1)) AS ok",
        [this.#schema],
      );
      if (rows[0]?.ok) await client.query(fold(this.#counts));
    });
  }
}
