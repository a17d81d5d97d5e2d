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

/**
 * Migration: the counts of `0201_task_counts` kept by statement triggers over transition tables
 * instead of row triggers, planned with sorting allowed. A claim turns sorting off for its own
 * statement (`SET LOCAL enable_sort = off`, see task-store.ts), and the triggers it fires
 * inherited that: with a row trigger a claim of 500 tasks took 55 s, with a statement trigger
 * 100-280 ms, and with the function's own `SET enable_sort = on` 14 ms, the same as without
 * counts (same machine, same run). Column lists are not allowed with transition tables, so the
 * update trigger runs for every update and writes only the groups whose count changed.
 */
export const TASK_STATS_PER_STATEMENT_MIGRATION: Migration = {
  name: '0202_task_counts_per_statement',
  sql: `
DROP TRIGGER task_counts_insert_delete ON "{{schema}}".tasks;
DROP TRIGGER task_counts_update ON "{{schema}}".tasks;
DROP FUNCTION "{{schema}}".task_counts_follow();
CREATE FUNCTION "{{schema}}".task_counts_add() RETURNS trigger LANGUAGE plpgsql SET enable_sort = on AS $$
BEGIN
  -- Each branch reads only the transition tables its trigger declares (plpgsql plans a
  -- statement when it first runs it). Groups in key order: no lock-order cycle between hosts.
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "{{schema}}".task_counts AS c (slot, status, priority, n)
      SELECT pg_backend_pid(), status, priority, count(*) FROM new_rows
      GROUP BY status, priority ORDER BY status, priority
      ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "{{schema}}".task_counts AS c (slot, status, priority, n)
      SELECT pg_backend_pid(), status, priority, -count(*) FROM old_rows
      GROUP BY status, priority ORDER BY status, priority
      ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSE
    INSERT INTO "{{schema}}".task_counts AS c (slot, status, priority, n)
      SELECT pg_backend_pid(), status, priority, sum(n) FROM (
        SELECT status, priority, -1 AS n FROM old_rows
        UNION ALL
        SELECT status, priority, 1 AS n FROM new_rows
      ) AS change
      GROUP BY status, priority HAVING sum(n) <> 0 ORDER BY status, priority
      ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER task_counts_insert AFTER INSERT ON "{{schema}}".tasks
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "{{schema}}".task_counts_add();
CREATE TRIGGER task_counts_delete AFTER DELETE ON "{{schema}}".tasks
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "{{schema}}".task_counts_add();
CREATE TRIGGER task_counts_update AFTER UPDATE ON "{{schema}}".tasks
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "{{schema}}".task_counts_add();
`,
};

/**
 * Migration: status changes counted by the statements that make them, not by a trigger. 0202's
 * `task_counts_update` fired on every update of `tasks`, and a trigger with transition tables
 * makes PostgreSQL copy every updated row into them as the statement runs: with it, a
 * one-task claim and completion took 13 % longer (1,046 against 908 µs per transaction), a
 * 500-task claim 16.1 against 13.6 ms and its completion 5.5 against 4.8 ms (2026-12-04, same
 * run). Every statement of the store that changes a task's status now carries a `counted` CTE
 * ({@link countMovesSql}) that moves the counts of its own connection's slot, in the same
 * statement. No statement changes a task's priority. Inserts and deletes kept 0202's triggers
 * (inserts until {@link TASK_INSERTS_COUNTED_IN_STATEMENTS_MIGRATION}).
 *
 * A host of an earlier version still running during a rolling upgrade changes statuses without
 * counting them after this migration: each host reconciles the counts when it starts
 * ({@link PostgresTaskStats.reconcile}), so once the last host is upgraded and started they are
 * exact again. Dropping the trigger takes the table's lock, so no change falls between the
 * trigger's last count and the statements' first.
 */
export const TASK_COUNTS_IN_STATEMENTS_MIGRATION: Migration = {
  name: '0211_task_counts_status_changes_in_statements',
  sql: `DROP TRIGGER task_counts_update ON "{{schema}}".tasks;`,
};

/**
 * Migration: inserts counted by the statements that make them, as status changes are since
 * {@link TASK_COUNTS_IN_STATEMENTS_MIGRATION}. 0202's `task_counts_insert` trigger copied every
 * inserted row into its transition table and ran a statement of its own; a `counted` CTE
 * ({@link countAddsSql}) in each insert does the same work inside the statement: 0.3-0.5 ms
 * less per 1,000-task batch (of about 5), measured in the fourth pass of docs/benchmarks.md.
 * The delete trigger stays (pruning is off the hot path).
 *
 * A host of an earlier version running meanwhile inserts uncounted; the reconcile at each
 * host's start puts that right, as for 0211.
 */
export const TASK_INSERTS_COUNTED_IN_STATEMENTS_MIGRATION: Migration = {
  name: '0213_task_counts_inserts_in_statements',
  sql: `DROP TRIGGER task_counts_insert ON "{{schema}}".tasks;`,
};

/**
 * A data-modifying CTE named `counted` for a statement that inserts tasks: every row of the CTE
 * `rows` (which must return `status` and `priority`) joins the count of its status, in this
 * connection's slot (see {@link countMovesSql} on why no `ORDER BY`).
 *
 * @example
 * ```ts
 * const sql = `WITH added AS (INSERT INTO tasks ... RETURNING seq, status, priority),
 *   ${countAddsSql('"agentd".task_counts', 'added')}
 *   SELECT seq FROM added`;
 * ```
 */
export function countAddsSql(counts: string, rows: string): string {
  return `counted AS (
    INSERT INTO ${counts} AS c (slot, status, priority, n)
    SELECT pg_backend_pid(), status, priority, count(*) FROM ${rows}
    GROUP BY status, priority
    ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n + EXCLUDED.n
  )`;
}

/**
 * A data-modifying CTE named `counted` for a statement that changes tasks' status: every row of
 * the CTE `rows` (which must return `priority`) leaves the count of `was` and joins the count of
 * `is` (each a status literal such as `'running'`, or a column of `rows`), in this connection's
 * slot. Groups that net to zero are not written; a claim of two priorities writes four rows.
 *
 * No `ORDER BY`: only this connection writes its slot's rows, so no two statements can take
 * their locks in opposite orders; and a claim plans with sorts switched off, under which a sort
 * costs the planner's "disabled" penalty, which pushed the claim's estimated cost past
 * `jit_above_cost`: every claim then compiled itself with LLVM (about 300 ms of CPU each,
 * measured), which starved the pools of three hosts in the reliability test.
 *
 * @example
 * ```ts
 * const sql = `WITH done AS (UPDATE tasks SET status = 'completed' ... RETURNING seq, priority),
 *   ${countMovesSql('"agentd".task_counts', 'done', "'running'", "'completed'")}
 *   SELECT seq FROM done`;
 * ```
 */
export function countMovesSql(counts: string, rows: string, was: string, is: string): string {
  return `counted AS (
    INSERT INTO ${counts} AS c (slot, status, priority, n)
    SELECT pg_backend_pid(), m.status, m.priority, sum(m.n) FROM (
      SELECT ${was} AS status, priority, -1 AS n FROM ${rows}
      UNION ALL
      SELECT ${is} AS status, priority, 1 AS n FROM ${rows}
    ) AS m
    GROUP BY m.status, m.priority HAVING sum(m.n) <> 0
    ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n + EXCLUDED.n
  )`;
}

/**
 * Adds to slot 0 what the kept counts miss against a count of the rows, both read in one
 * statement (one snapshot): every writer of this version changes rows and counts in one
 * transaction, so any difference is a change nobody counted (a host of an earlier version,
 * hand-written SQL), and adding it is right whatever commits meanwhile.
 */
const reconcileSql = (tasks: string, counts: string) => `
WITH actual AS (
  SELECT status, priority, count(*) AS n FROM ${tasks} GROUP BY status, priority
), kept AS (
  SELECT status, priority, sum(n) AS n FROM ${counts} GROUP BY status, priority
), missing AS (
  SELECT coalesce(a.status, k.status) AS status, coalesce(a.priority, k.priority) AS priority,
    coalesce(a.n, 0) - coalesce(k.n, 0) AS n
  FROM actual a FULL JOIN kept k ON k.status = a.status AND k.priority = a.priority
)
INSERT INTO ${counts} AS c (slot, status, priority, n)
  SELECT 0, status, priority, n FROM missing WHERE n <> 0 ORDER BY status, priority
  ON CONFLICT (slot, status, priority) DO UPDATE SET n = c.n + EXCLUDED.n`;

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
  readonly #tasks: string;
  readonly #sum: string;
  readonly #oldest: string;
  #foldedAt = Number.NEGATIVE_INFINITY;

  constructor(pool: pg.Pool, schema: string, table: (name: string) => string) {
    this.#pool = pool;
    this.#schema = schema;
    this.#counts = table('task_counts');
    this.#tasks = table('tasks');
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
    await this.#underCountsLock(fold(this.#counts), false);
  }

  /**
   * Makes the kept counts agree with the rows again, after changes nobody counted (hosts of an
   * earlier version during a rolling upgrade, see {@link TASK_COUNTS_IN_STATEMENTS_MIGRATION}):
   * one read of every task (a sequential scan: about 0.1-0.3 s per million rows), never
   * blocking other hosts' writes. The `postgres()` plugin runs it in the background when a host
   * starts. Waits for a fold or another reconcile in progress rather than skipping.
   *
   * @returns how many counts (by status and priority) it corrected: 0 when every change was counted
   */
  async reconcile(): Promise<number> {
    return this.#underCountsLock(reconcileSql(this.#tasks, this.#counts), true);
  }

  async #underCountsLock(sql: string, wait: boolean): Promise<number> {
    return inTransaction(this.#pool, async (client) => {
      if (wait) {
        await client.query(
          "SELECT pg_advisory_xact_lock(hashtext('agentd.task_counts'), hashtext($1))",
          [this.#schema],
        );
      } else {
        const { rows } = await client.query<{ ok: boolean }>(
          "SELECT pg_try_advisory_xact_lock(hashtext('agentd.task_counts'), hashtext($1)) AS ok",
          [this.#schema],
        );
        if (!rows[0]?.ok) return 0;
      }
      return (await client.query(sql)).rowCount ?? 0;
    });
  }
}
