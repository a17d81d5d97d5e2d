import type { SessionStore, TaskStore } from '@agentd/core';
import {
  canonicalJson,
  exportRecordsThrough,
  type ImportReport,
  type StateRecord,
  type StoreRecord,
  type StoreRecords,
} from '@agentd/core/store';
import { inTransaction } from './client.js';
import type { PostgresHandle } from './handle.js';
import { countAddsSql } from './task-stats.js';
import { encodeNullable, encodeText } from './task-text.js';

const json = (value: unknown): string => JSON.stringify(value);
const jsonOrNull = (value: unknown): string | null => (value === null ? null : json(value));

/**
 * `agentd store copy` on PostgreSQL: every record out (through the contract's reads, plus the
 * outbox and state tables), and records in as they were, in one transaction.
 *
 * @example
 * ```ts
 * const records = postgresStoreRecords(handle, { tasks, sessions }, Date.now);
 * await records.importRecords(batch);
 * ```
 */
export function postgresStoreRecords(
  handle: PostgresHandle,
  parts: { tasks: TaskStore; sessions: SessionStore },
  now: () => number,
): StoreRecords {
  const t = (name: string) => handle.table(name);
  const prefix = async (query = handle.pool.query.bind(handle.pool)) => {
    const { rows } = await query<{ value: string }>(
      `SELECT value FROM ${t('task_meta')} WHERE key = 'task_id_prefix'`,
    );
    return rows[0]!.value;
  };
  return {
    exportRecords: (options) =>
      exportRecordsThrough(
        parts,
        {
          owedReplies: async () => {
            const p = await prefix();
            const { rows } = await handle.pool.query<{
              seq: string;
              due_at: string;
              attempts: number;
            }>(`SELECT seq, due_at, attempts FROM ${t('task_replies')}`);
            return new Map(
              rows.map((r) => [
                p + Number(r.seq).toString(36),
                { dueAt: Number(r.due_at), attempts: r.attempts },
              ]),
            );
          },
          stateRecords: async () => {
            const { rows } = await handle.pool.query<{
              namespace: string;
              key: string;
              value: string;
              expires_at: string | null;
            }>(
              `SELECT namespace, key, value, expires_at FROM ${t('state')}
                WHERE expires_at IS NULL OR expires_at > $1 ORDER BY namespace, key`,
              [now()],
            );
            return rows.map(
              (r): StateRecord => ({
                kind: 'state',
                namespace: r.namespace,
                key: r.key,
                value: JSON.parse(r.value),
                expiresAt: r.expires_at === null ? null : Number(r.expires_at),
              }),
            );
          },
        },
        options,
      ),
    importRecords: (records) =>
      inTransaction(handle.pool, async (client): Promise<ImportReport> => {
        const p = await prefix(client.query.bind(client));
        const taskIds = new Map<string, string>();
        for (const r of records) await importOne(client, r, p, taskIds);
        return { taskIds };
      }),
  };

  async function importOne(
    client: { query: typeof handle.pool.query },
    r: StoreRecord,
    p: string,
    taskIds: Map<string, string>,
  ): Promise<void> {
    if (r.kind === 'task') {
      const k = r.task;
      // A running task whose session already has one running in the target (a merge with
      // --force) comes in pending, its lease dropped: what lease recovery would make of it.
      // The conflict target fits the key's UNIQUE constraint and a partial index alike (see
      // batchInsertSql).
      const { rows } = await client.query<{ seq: string }>(
        `WITH demote AS (
           SELECT $6 = 'running' AND EXISTS (SELECT 1 FROM ${t('tasks')}
             WHERE session_key = $16 AND status = 'running') AS d
         ), added AS (
         INSERT INTO ${t('tasks')} (input, description, type, agent, priority, status, attempts,
           max_attempts, created_at, run_at, started_at, finished_at, result, error,
           idempotency_key, session_key, reply_to, metadata, lease_owner, lease_expires_at)
         SELECT $1, $2, $3, $4, $5, CASE WHEN d THEN 'pending' ELSE $6 END, $7, $8, $9, $10,
           $11, $12, $13, $14, $15, $16, $17, $18, CASE WHEN d THEN NULL ELSE $19 END,
           CASE WHEN d THEN NULL ELSE $20::bigint END
         FROM demote
         ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING seq, status, priority
         ), ${countAddsSql(t('task_counts'), 'added')}
         SELECT seq FROM added`,
        [
          json(k.input),
          encodeText(k.description),
          encodeText(k.type),
          encodeNullable(k.agent),
          k.priority,
          k.status,
          k.attempts,
          k.maxAttempts,
          k.createdAt,
          k.runAt,
          k.startedAt,
          k.finishedAt,
          jsonOrNull(k.result),
          jsonOrNull(k.error),
          encodeNullable(k.idempotencyKey),
          encodeNullable(k.sessionKey),
          jsonOrNull(k.replyTo),
          json(k.metadata),
          encodeNullable(k.leaseOwner),
          k.leaseExpiresAt,
        ],
      );
      let seq = rows[0]?.seq;
      if (seq === undefined) {
        // Its idempotency key is taken: the task is there already.
        const found = await client.query<{ seq: string }>(
          `SELECT seq FROM ${t('tasks')} WHERE idempotency_key = $1`,
          [encodeNullable(k.idempotencyKey)],
        );
        taskIds.set(k.id, p + Number(found.rows[0]!.seq).toString(36));
        return;
      }
      taskIds.set(k.id, p + Number(seq).toString(36));
      if (r.reply) {
        await client.query(
          `INSERT INTO ${t('task_replies')} (seq, due_at, attempts) VALUES ($1, $2, $3)`,
          [seq, r.reply.dueAt, r.reply.attempts],
        );
      }
      seq = undefined;
    } else if (r.kind === 'deadLetter') {
      const l = r.letter;
      await client.query(
        `INSERT INTO ${t('dead_letters')} (channel, key, code, reason, raw, raw_bytes, truncated,
           reply_to, status, created_at, settled_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (key) DO NOTHING`,
        [
          encodeText(l.channel),
          encodeNullable(l.key),
          encodeText(l.code),
          encodeText(l.reason),
          encodeText(l.raw),
          l.rawBytes,
          l.truncated,
          jsonOrNull(l.replyTo),
          l.status,
          l.createdAt,
          l.settledAt,
        ],
      );
    } else if (r.kind === 'session') {
      const s = r.session;
      const { rowCount } = await client.query(
        `INSERT INTO ${t('sessions')} (id, user_key, address, name, agent, persona, status, active,
           idle_timeout_ms, last_activity_at, created_at, snapshot, resource, owner, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7,
           $8 AND NOT EXISTS (SELECT 1 FROM ${t('sessions')} WHERE user_key = $2 AND active),
           $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (id) DO NOTHING`,
        [
          s.id,
          s.userKey,
          json(s.address),
          s.name,
          s.agent,
          s.persona,
          s.status,
          s.active,
          s.idleTimeoutMs,
          s.lastActivityAt,
          s.createdAt,
          jsonOrNull(s.snapshot),
          jsonOrNull(s.resource),
          s.owner,
          json(s.metadata),
        ],
      );
      if (rowCount === 0) return;
      for (const h of r.history) {
        await client.query(
          `INSERT INTO ${t('session_history')} (session_id, role, content, at, task_id)
           VALUES ($1, $2, $3, $4, $5)`,
          [s.id, h.role, h.content, h.at, h.taskId ?? null],
        );
      }
    } else {
      await client.query(
        `INSERT INTO ${t('state')} (namespace, key, value, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (namespace, key) DO NOTHING`,
        [r.namespace, r.key, canonicalJson(r.value), r.expiresAt],
      );
    }
  }
}
