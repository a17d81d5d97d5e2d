import { REPLY_HOLD_MS } from '@agentd/core/store';
import { countMovesSql } from './task-stats.js';

// The task store's statements that write many rows at once: the insert behind enqueue and
// enqueueMany, and the completion behind shared completeAndClaim writes. Each is one statement,
// so each is atomic without an explicit transaction.

/** The columns an insert sets. */
export const INSERT_COLUMNS = `input, description, type, agent, priority, status, max_attempts,
  created_at, run_at, idempotency_key, session_key, reply_to, metadata`;

/**
 * One new task as {@link batchInsertSql} reads it from its JSON parameter. Keys are two letters
 * and a NULL column is left out (json_to_recordset reads a missing key as NULL): a batch of
 * 1,000 keyless tasks is a JSON text of about half the size with the columns' names, which the
 * driver writes and the server parses. `in` input, `de` description, `ty` type, `ag` agent,
 * `pr` priority, `ma` max_attempts, `ca` created_at, `ra` run_at, `ik` idempotency_key, `sk`
 * session_key, `rt` reply_to, `md` metadata.
 */
export interface InsertRow {
  in: string;
  de: string;
  ty: string;
  ag?: string;
  pr: number;
  ma: number;
  ca: number;
  ra: number;
  ik?: string;
  sk?: string;
  rt?: string;
  md: string;
}

/**
 * Inserts the tasks given as one JSON array of {@link InsertRow} objects ($1). One JSON text
 * rather than an array parameter per column: the driver writes it with `JSON.stringify` and the
 * server reads it in one pass (measured: 0.6 ms against 4 to 7 ms of the driver's array
 * encoding per 1,000 tasks). Rows are produced, and so numbered, in input order, so tasks of
 * equal priority and run-at are claimed in that order. When a row was added, the hosts
 * listening on channel $2 are notified once, at commit: an uncorrelated scalar subquery is
 * evaluated once.
 *
 * With `keyed`, a key seen earlier in the batch or already stored is skipped by ON CONFLICT DO
 * NOTHING (the caller reads that task), and each new row's seq and key are returned. Without
 * it (every task of the batch keyless, so none can conflict: the unique index never compares
 * NULLs) the statement is a plain INSERT, as ON CONFLICT makes every row a speculative
 * insertion, checked against the index before and after its heap write (measured at a third of
 * the statement's time for 1,000 keyless tasks); it returns one row, `seqs`, the new seqs in
 * ascending (so input) order, comma-separated: one row to send and read instead of 1,000.
 *
 * @example
 * ```ts
 * const { rows } = await pool.query(batchInsertSql('"agentd"."tasks"', { keyed: false }), [JSON.stringify(rows), channel]);
 * const seqs = rows[0].seqs.split(',').map(Number);
 * ```
 */
export function batchInsertSql(tasks: string, { keyed }: { keyed: boolean }): string {
  const added = `
    WITH added AS (
      INSERT INTO ${tasks} (${INSERT_COLUMNS})
      SELECT "in", de, ty, ag, pr, 'pending', ma, ca, ra, ik, sk, rt, md
      FROM ROWS FROM (json_to_recordset($1::json) AS ("in" text, de text, ty text, ag text,
        pr smallint, ma integer, ca bigint, ra bigint, ik text, sk text, rt text, md text))
        WITH ORDINALITY AS v("in", de, ty, ag, pr, ma, ca, ra, ik, sk, rt, md, ord)
      ORDER BY ord${keyed ? `\n      ON CONFLICT (idempotency_key) DO NOTHING` : ''}
      RETURNING seq${keyed ? ', idempotency_key' : ''}
    )`;
  return keyed
    ? `${added}
    SELECT seq, idempotency_key, (SELECT pg_notify($2, '')) AS woke FROM added`
    : `${added}
    SELECT string_agg(seq::text, ',' ORDER BY seq) AS seqs, (SELECT pg_notify($2, '')) AS woke
    FROM added`;
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
    )
    SELECT seq FROM done`;
}
