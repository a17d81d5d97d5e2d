import { REPLY_HOLD_MS } from '@agentd/core/store';

// The task store's statements that write many rows at once: the insert behind enqueue and
// enqueueMany, and the completion behind shared completeAndClaim writes. Each is one statement,
// so each is atomic without an explicit transaction.

/** The columns an insert sets, in the order of {@link batchInsertSql}'s arrays. */
export const INSERT_COLUMNS = `input, description, type, agent, priority, status, max_attempts,
  created_at, run_at, idempotency_key, session_key, reply_to, metadata`;

/**
 * Inserts the tasks given as twelve parallel arrays ($1..$12, the insert columns but status) and
 * returns each new row's seq and key. Rows are produced, and so numbered, in input order, so tasks
 * of equal priority and run-at are claimed in that order. A key seen earlier in the batch or
 * already stored is skipped by ON CONFLICT DO NOTHING (the caller reads that task). When a row
 * was added, the hosts listening on channel $13 are notified once, at commit: an uncorrelated
 * scalar subquery is evaluated once, and only if a row is returned.
 *
 * @example
 * ```ts
 * const { rows } = await pool.query(batchInsertSql('"agentd"."tasks"'), [...columns, channel]);
 * ```
 */
export function batchInsertSql(tasks: string): string {
  return `
    WITH added AS (
      INSERT INTO ${tasks} (${INSERT_COLUMNS})
      SELECT input, description, type, agent, priority, 'pending', max_attempts, created_at,
        run_at, idempotency_key, session_key, reply_to, metadata
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::smallint[],
        $6::integer[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[],
        $12::text[]) WITH ORDINALITY AS v(input, description, type, agent, priority,
        max_attempts, created_at, run_at, idempotency_key, session_key, reply_to, metadata, ord)
      ORDER BY ord
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING seq, idempotency_key
    )
    SELECT seq, idempotency_key, (SELECT pg_notify($13, '')) AS woke FROM added`;
}

/**
 * Completes the running tasks given as parallel arrays (seq $1, result $2, whether the result
 * owes a reply $3, lease owner $4, finish time $5), each only while its owner holds it, and
 * queues the replies owed; returns the seqs completed.
 *
 * @example
 * ```ts
 * const { rows } = await client.query(batchCompleteSql(tasks, replies), [seqs, texts, owes, owners, ats]);
 * ```
 */
export function batchCompleteSql(tasks: string, replies: string): string {
  return `
    WITH done AS (
      UPDATE ${tasks} t SET status = 'completed', finished_at = v.at, result = v.result,
        lease_owner = NULL, lease_expires_at = NULL, lease_process = NULL
      FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::text[], $5::bigint[])
        AS v(seq, result, owes, owner, at)
      WHERE t.seq = v.seq AND t.status = 'running' AND t.lease_owner = v.owner
      RETURNING t.seq, t.reply_to, v.owes, v.at
    ), owed AS (
      INSERT INTO ${replies} (seq, due_at)
      SELECT seq, at + ${REPLY_HOLD_MS} FROM done WHERE owes AND reply_to IS NOT NULL
      ON CONFLICT (seq) DO NOTHING
    )
    SELECT seq FROM done`;
}
