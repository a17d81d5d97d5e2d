import type { SessionStore, TaskStore } from '@agentd/core';
import {
  canonicalJson,
  exportRecordsThrough,
  type ImportReport,
  type StateRecord,
  type StoreRecord,
  type StoreRecords,
} from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import { TASK_ID_PREFIX_KEY, TaskIds } from './task-ids.js';
import { ADD_TO_TASK_COUNT_SQL, countKey } from './task-stats.js';

const json = (value: unknown): string => JSON.stringify(value);
const jsonOrNull = (value: unknown): string | null => (value === null ? null : json(value));

/**
 * `agentd store copy` on SQLite: every record out (through the contract's reads, plus the
 * outbox and state tables), and records in as they were, in one transaction.
 *
 * @example
 * ```ts
 * const records = sqliteStoreRecords(db, { tasks, sessions }, Date.now);
 * for await (const batch of records.exportRecords()) console.log(batch.length);
 * ```
 */
export function sqliteStoreRecords(
  db: BetterSqlite3.Database,
  parts: { tasks: TaskStore; sessions: SessionStore },
  now: () => number,
): StoreRecords {
  const ids = () =>
    new TaskIds(
      (
        db.prepare('SELECT value FROM meta WHERE key = ?').get(TASK_ID_PREFIX_KEY) as {
          value: string;
        }
      ).value,
    );
  // A running task whose session already has one running in the target (a merge with
  // --force) comes in pending, its lease dropped: what lease recovery would make of it.
  const insertTask = db.prepare(`INSERT INTO tasks (status, priority, run_at, session_key,
      idempotency_key, type, agent, description, input, attempts, max_attempts, created_at,
      started_at, finished_at, result, error, reply_to, metadata, lease_owner, lease_expires_at)
    SELECT CASE WHEN d THEN 'pending' ELSE :status END, :priority, :runAt, :sessionKey,
      :idempotencyKey, :type, :agent, :description, :input, :attempts, :maxAttempts, :createdAt,
      :startedAt, :finishedAt, :result, :error, :replyTo, :metadata,
      CASE WHEN d THEN NULL ELSE :leaseOwner END, CASE WHEN d THEN NULL ELSE :leaseExpiresAt END
    FROM (SELECT :status = 'running' AND EXISTS (SELECT 1 FROM tasks
      WHERE session_key = :sessionKey AND status = 'running') AS d)
    WHERE true
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`);
  const seqByKey = db.prepare('SELECT seq FROM tasks WHERE idempotency_key = ?').pluck();
  const addToCount = db.prepare(ADD_TO_TASK_COUNT_SQL);
  const insertReply = db.prepare(
    'INSERT OR IGNORE INTO task_replies (seq, due_at, attempts) VALUES (?, ?, ?)',
  );
  const insertLetter = db.prepare(`INSERT INTO dead_letters (channel, key, code, reason, raw,
      raw_bytes, truncated, reply_to, status, created_at, settled_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const letterByKey = db.prepare('SELECT 1 FROM dead_letters WHERE key = ?').pluck();
  const insertSession = db.prepare(`INSERT OR IGNORE INTO sessions (id, user_key, address, name,
      agent, persona, status, active, idle_timeout_ms, last_activity_at, created_at, snapshot,
      resource, owner, metadata)
    VALUES (?, ?, ?, ?, ?, ?, ?,
      CASE WHEN ? = 1 AND NOT EXISTS (SELECT 1 FROM sessions WHERE user_key = ? AND active = 1)
        THEN 1 ELSE 0 END,
      ?, ?, ?, ?, ?, ?, ?)`);
  const insertHistory = db.prepare(
    'INSERT INTO session_history (session_id, role, content, at, task_id) VALUES (?, ?, ?, ?, ?)',
  );
  const insertState = db.prepare(
    'INSERT OR IGNORE INTO state (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)',
  );

  const importAll = db.transaction((records: readonly StoreRecord[]): ImportReport => {
    const taskIds = new Map<string, string>();
    const format = ids();
    for (const r of records) {
      if (r.kind === 'task') {
        const t = r.task;
        const info = insertTask.run({
          status: t.status,
          priority: t.priority,
          runAt: t.runAt,
          sessionKey: t.sessionKey,
          idempotencyKey: t.idempotencyKey,
          type: t.type,
          agent: t.agent,
          description: t.description,
          input: json(t.input),
          attempts: t.attempts,
          maxAttempts: t.maxAttempts,
          createdAt: t.createdAt,
          startedAt: t.startedAt,
          finishedAt: t.finishedAt,
          result: jsonOrNull(t.result),
          error: jsonOrNull(t.error),
          replyTo: jsonOrNull(t.replyTo),
          metadata: json(t.metadata),
          leaseOwner: t.leaseOwner,
          leaseExpiresAt: t.leaseExpiresAt,
        });
        if (info.changes === 0) {
          // Its idempotency key is taken: the task is there already.
          taskIds.set(t.id, format.format(Number(seqByKey.get(t.idempotencyKey))));
          continue;
        }
        const seq = Number(info.lastInsertRowid);
        // No trigger counts inserts (migration 0011). A running task that came in pending is
        // counted alike: pending and running share one count.
        addToCount.run(countKey(t.status), t.priority, 1);
        taskIds.set(t.id, format.format(seq));
        if (r.reply) insertReply.run(seq, r.reply.dueAt, r.reply.attempts);
      } else if (r.kind === 'deadLetter') {
        const l = r.letter;
        if (l.key !== null && letterByKey.get(l.key) !== undefined) continue;
        insertLetter.run(
          l.channel,
          l.key,
          l.code,
          l.reason,
          l.raw,
          l.rawBytes,
          l.truncated ? 1 : 0,
          jsonOrNull(l.replyTo),
          l.status,
          l.createdAt,
          l.settledAt,
        );
      } else if (r.kind === 'session') {
        const s = r.session;
        const info = insertSession.run(
          s.id,
          s.userKey,
          json(s.address),
          s.name,
          s.agent,
          s.persona,
          s.status,
          s.active ? 1 : 0,
          s.userKey,
          s.idleTimeoutMs,
          s.lastActivityAt,
          s.createdAt,
          jsonOrNull(s.snapshot),
          jsonOrNull(s.resource),
          s.owner,
          json(s.metadata),
        );
        if (info.changes === 0) continue;
        for (const h of r.history) {
          insertHistory.run(s.id, h.role, h.content, h.at, h.taskId ?? null);
        }
      } else {
        insertState.run(r.namespace, r.key, canonicalJson(r.value), r.expiresAt);
      }
    }
    return { taskIds };
  });

  return {
    exportRecords: (options) =>
      exportRecordsThrough(
        parts,
        {
          owedReplies: async () => {
            const format = ids();
            const rows = db.prepare('SELECT seq, due_at, attempts FROM task_replies').all() as {
              seq: number;
              due_at: number;
              attempts: number;
            }[];
            return new Map(
              rows.map((r) => [format.format(r.seq), { dueAt: r.due_at, attempts: r.attempts }]),
            );
          },
          stateRecords: async () =>
            (
              db
                .prepare(
                  `SELECT namespace, key, value, expires_at FROM state
                    WHERE expires_at IS NULL OR expires_at > ? ORDER BY namespace, key`,
                )
                .all(now()) as {
                namespace: string;
                key: string;
                value: string;
                expires_at: number | null;
              }[]
            ).map(
              (r): StateRecord => ({
                kind: 'state',
                namespace: r.namespace,
                key: r.key,
                value: JSON.parse(r.value),
                expiresAt: r.expires_at,
              }),
            ),
        },
        options,
      ),
    importRecords: async (records) => importAll(records),
  };
}
