import type { HistoryEntry } from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import type { SessionRow } from './schema.js';

/**
 * Records a session run's end inside the caller's transaction: the session's last activity,
 * then its history entries, or nothing when the session is gone. Shared by the session store's
 * `recordTurn` and the task store's completion with a turn, so a turn is written alike by both.
 *
 * @example
 * ```ts
 * const writeTurn = prepareTurnWrite(db);
 * db.transaction(() => writeTurn('s1', [{ role: 'user', content: 'hi', at: now }], now))();
 * ```
 */
export function prepareTurnWrite(
  db: BetterSqlite3.Database,
): (
  sessionId: string,
  entries: readonly HistoryEntry[],
  lastActivityAt: number,
) => SessionRow | undefined {
  const touch = db.prepare('UPDATE sessions SET last_activity_at = ? WHERE id = ? RETURNING *');
  const append = db.prepare(
    'INSERT INTO session_history (session_id, role, content, at, task_id) VALUES (?, ?, ?, ?, ?)',
  );
  return (sessionId, entries, lastActivityAt) => {
    const row = touch.get(lastActivityAt, sessionId) as SessionRow | undefined;
    if (!row) return undefined;
    for (const e of entries) append.run(sessionId, e.role, e.content, e.at, e.taskId ?? null);
    return row;
  };
}
