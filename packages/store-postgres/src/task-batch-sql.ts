import { REPLY_HOLD_MS } from '@agentd/core/store';
import { countAddsSql, countMovesSql } from './task-stats.js';

// The task store's statements that write many rows at once: the insert behind enqueue and
// enqueueMany, and the completion behind shared completeAndClaim writes. Each is one statement,
// so each is atomic without an explicit transaction.

/**
 * The columns an insert takes from the tasks (every one but `status`, always 'pending'), in the
 * order of their parameters, with their SQL types.
 */
export const INSERT_VALUE_COLUMNS = [
  ['input', 'text'],
  ['description', 'text'],
  ['type', 'text'],
  ['agent', 'text'],
  ['priority', 'smallint'],
  ['max_attempts', 'integer'],
  ['created_at', 'bigint'],
  ['run_at', 'bigint'],
  ['idempotency_key', 'text'],
  ['session_key', 'text'],
  ['reply_to', 'text'],
  ['metadata', 'text'],
] as const;

/** A column of {@link INSERT_VALUE_COLUMNS}. */
export type InsertColumn = (typeof INSERT_VALUE_COLUMNS)[number][0];

/**
 * The values of each column of the tasks to insert, one array per column, in task order (see
 * {@link batchInsertValues}).
 */
export type InsertColumnValues = {
  readonly [C in InsertColumn]: readonly (string | number | null)[];
};

/** What a string column holds for a string value, where that is not the value itself. */
export type InsertColumnStore = { readonly [C in InsertColumn]?: (value: string) => string };

/** The parameter number of the first per-task array (after the count, the channel and the shared values). */
const PER_TASK_FROM = INSERT_VALUE_COLUMNS.length + 3;

/**
 * Inserts $1 tasks given column by column: a column whose value every task of the batch shares
 * is one parameter ($3 to $14, in {@link INSERT_VALUE_COLUMNS} order; NULL otherwise), any other
 * column a JSON array of the tasks' values ($15 to $26; NULL when shared), read by
 * `json_array_elements_text` and zipped by `ROWS FROM`. {@link batchInsertValues} makes the
 * parameters. Each column is `coalesce(<task's value>, <shared value>)`: a shared column reads
 * no array, so its value is NULL and the parameter's is taken; a per-task column's parameter is
 * NULL, so a task whose value is NULL stores NULL.
 *
 * Why this shape. The tasks of one `enqueueMany` usually differ only in their input (same agent,
 * type, priority, attempts, times and metadata), so most columns are sent once instead of 1,000
 * times. And an array of values is the cheapest JSON for the server to read: the earlier
 * parameter, one JSON array of an object per task read by `json_to_recordset`, had the server
 * build a hash table of each object's keys. One JSON text per column rather than a PostgreSQL
 * array: the driver writes it with `JSON.stringify` (measured: 0.6 ms against 4 to 7 ms of the
 * driver's array encoding per 1,000 tasks). Measured for 1,000 keyless tasks that differ only in
 * input, the two statements alternated 30 times on one server (medians): the parameters are
 * 23 kB instead of 125 kB, execution (`EXPLAIN ANALYZE`) takes 4.9 ms instead of 6.6, and the
 * statement from send to reply 6.5 ms instead of 10.1 (the server also parses a `json`
 * parameter once more as it receives it); the host's CPU per batch fell from 2.5 to 1.7 ms.
 *
 * Rows are produced, and so numbered, in input order (the ordinality of `ROWS FROM`), so tasks
 * of equal priority and run-at are claimed in that order. When a row was added, the hosts
 * listening on channel $2 are notified once, at commit: an uncorrelated scalar subquery is
 * evaluated once.
 *
 * With `keyed`, a key seen earlier in the batch or already stored is skipped by ON CONFLICT DO
 * NOTHING (the caller reads that task), and each new row's seq and key are returned. The
 * conflict target says `WHERE idempotency_key IS NOT NULL` so that it names the UNIQUE
 * constraint of `0001_tasks` and also a partial unique index over set keys only: a later
 * migration may swap the one for the other (the constraint indexes every keyless task's NULL,
 * about 1 ms and 65 bytes of WAL per task in a 1,000-task insert), which is safe in a rolling
 * upgrade only once no running host still says `ON CONFLICT (idempotency_key)`. Without
 * it (every task of the batch keyless, so none can conflict: the unique index never compares
 * NULLs) the statement is a plain INSERT, as ON CONFLICT makes every row a speculative
 * insertion, checked against the index before and after its heap write (measured at a third of
 * the statement's time for 1,000 keyless tasks); it returns one row instead of 1,000: `first`,
 * the lowest new seq, `n`, how many, and `seqs`, NULL when the seqs are `first` to
 * `first + n - 1` (as when no other session drew seqs meanwhile), else the new seqs in ascending
 * (so input) order, comma-separated. The host then makes each id from `first` by arithmetic
 * rather than splitting and parsing 1,000 numbers.
 *
 * @example
 * ```ts
 * const sql = batchInsertSql('"agentd"."tasks"', '"agentd"."task_counts"', { keyed: false });
 * const { rows } = await pool.query(sql, batchInsertValues(count, columns, stored, channel));
 * const { first, n, seqs } = rows[0]; // seqs null: first, first + 1, ... first + n - 1
 * ```
 */
export function batchInsertSql(
  tasks: string,
  counts: string,
  { keyed }: { keyed: boolean },
): string {
  const names = INSERT_VALUE_COLUMNS.map(([name]) => name).join(', ');
  const values = INSERT_VALUE_COLUMNS.map(([name, type], i) =>
    type === 'text'
      ? `coalesce(v.${name}, $${i + 3})`
      : `coalesce(v.${name}::${type}, $${i + 3}::${type})`,
  ).join(',\n        ');
  const perTask = INSERT_VALUE_COLUMNS.map(
    (_, i) => `json_array_elements_text($${i + PER_TASK_FROM}::json)`,
  ).join(',\n        ');
  const added = `
    WITH added AS (
      INSERT INTO ${tasks} (${names}, status)
      SELECT ${values},
        'pending'
      FROM ROWS FROM (generate_series(1, $1::integer),
        ${perTask})
        WITH ORDINALITY AS v(n, ${names}, ord)
      ORDER BY ord${keyed ? `\n      ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING` : ''}
      RETURNING seq, status, priority${keyed ? ', idempotency_key' : ''}
    ), ${countAddsSql(counts, 'added')}`;
  return keyed
    ? `${added}
    SELECT seq, idempotency_key, (SELECT pg_notify($2, '')) AS woke FROM added`
    : `${added}
    SELECT min(seq) AS first, count(*) AS n,
      CASE WHEN max(seq) - min(seq) + 1 = count(*) THEN NULL
        ELSE (SELECT string_agg(seq::text, ',' ORDER BY seq) FROM added) END AS seqs,
      (SELECT pg_notify($2, '')) AS woke
    FROM added`;
}

/**
 * The parameters of {@link batchInsertSql} for `count` tasks (at least one) whose values are
 * `columns`, notifying `channel`; a string value of a column named in `stored` goes as that
 * function makes it. A column is compared task by task until two differ; if none do, its one
 * value is the shared parameter, else every task's value goes in its JSON array.
 *
 * Column arrays rather than an object and a reading function per task: the enqueue hot path
 * makes no object per task besides the task itself, and each comparison loop reads one array
 * (a call per task and column through twelve different functions cost about a tenth of the
 * host's CPU per batch).
 *
 * @example
 * ```ts
 * batchInsertValues(2, { input: ['1', '2'], type: ['manual', 'manual'], ... }, {}, 'agentd_work');
 * // [2, 'agentd_work', null, 'manual', ..., '["1","2"]', null, ...]
 * ```
 */
export function batchInsertValues(
  count: number,
  columns: InsertColumnValues,
  stored: InsertColumnStore,
  channel: string,
): unknown[] {
  const params = new Array<unknown>(PER_TASK_FROM - 1 + INSERT_VALUE_COLUMNS.length);
  params[0] = count;
  params[1] = channel;
  for (let c = 0; c < INSERT_VALUE_COLUMNS.length; c++) {
    const name = (INSERT_VALUE_COLUMNS[c] as (typeof INSERT_VALUE_COLUMNS)[number])[0];
    const values = columns[name];
    const store = stored[name];
    const first = values[0] as string | number | null;
    let i = 1;
    while (i < count && values[i] === first) i++;
    if (i === count) {
      params[2 + c] = store && typeof first === 'string' ? store(first) : first;
      params[PER_TASK_FROM - 1 + c] = null;
    } else {
      params[2 + c] = null;
      params[PER_TASK_FROM - 1 + c] = JSON.stringify(
        store ? values.map((v) => (typeof v === 'string' ? store(v) : v)) : values,
      );
    }
  }
  return params;
}

/**
 * Completes the running tasks given as parallel arrays (seq $1, result $2, whether the result
 * owes a reply $3, lease owner $4, finish time $5), each only while its owner holds it, and
 * queues the replies owed; moves the tasks' counts ({@link countMovesSql}) in the same statement;
 * returns the seqs completed.
 *
 * @example
 * ```ts
 * const { rows } = await client.query(batchCompleteSql(tasks, replies, counts), [seqs, texts, owes, owners, ats]);
 * ```
 */
export function batchCompleteSql(tasks: string, replies: string, counts: string): string {
  return `${completeCtes(tasks, replies, counts)}
    SELECT seq FROM done`;
}

/** The CTEs of {@link batchCompleteSql}, ending with `done` (the seqs completed) and its writes. */
function completeCtes(tasks: string, replies: string, counts: string): string {
  return `
    WITH done AS (
      UPDATE ${tasks} t SET status = 'completed', finished_at = v.at, result = v.result,
        lease_owner = NULL, lease_expires_at = NULL, lease_process = NULL
      FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::text[], $5::bigint[])
        AS v(seq, result, owes, owner, at)
      WHERE t.seq = v.seq AND t.status = 'running' AND t.lease_owner = v.owner
      RETURNING t.seq, t.priority, t.reply_to, v.owes, v.at
    ), ${countMovesSql(counts, 'done', "'running'", "'completed'")}, owed AS (
      INSERT INTO ${replies} (seq, due_at)
      SELECT seq, at + ${REPLY_HOLD_MS} FROM done WHERE owes AND reply_to IS NOT NULL
      ON CONFLICT (seq) DO NOTHING
    )`;
}

/**
 * {@link batchCompleteSql} with the ends of the tasks' session runs: for each task of $1 that
 * the statement completes (not one whose lease was lost), the session of its turn gets its last
 * activity ($6 to $8: task seq, session id, time) and the turn's entries are appended after its
 * history, in array order ($9 to $14: task seq, session id, role, content, at, task id). A turn
 * whose session does not exist records nothing. One statement: the completion and the turn
 * commit together, or neither does.
 *
 * @example
 * ```ts
 * const sql = batchCompleteTurnsSql(tasks, replies, counts, sessions, history);
 * ```
 */
export function batchCompleteTurnsSql(
  tasks: string,
  replies: string,
  counts: string,
  sessions: string,
  history: string,
): string {
  return `${completeCtes(tasks, replies, counts)}, touched AS (
      UPDATE ${sessions} s SET last_activity_at = u.at
      FROM unnest($6::bigint[], $7::text[], $8::bigint[]) AS u(seq, session_id, at)
      WHERE s.id = u.session_id AND u.seq IN (SELECT seq FROM done)
      RETURNING u.seq
    ), added AS (
      INSERT INTO ${history} (session_id, role, content, at, task_id)
      SELECT h.session_id, h.role, h.content, h.at, h.task_id
      FROM unnest($9::bigint[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::text[])
        WITH ORDINALITY AS h(seq, session_id, role, content, at, task_id, n)
      WHERE h.seq IN (SELECT seq FROM touched)
      ORDER BY h.n
    )
    SELECT seq FROM done`;
}
