import type { Address, JsonObject, SessionStore } from '@agentd/core';
import {
  checkHistoryEntry,
  checkHistoryLimit,
  type HistoryEntry,
  type NewSession,
  parseJson,
  prepareNewSession,
  prepareSessionPatch,
  type Session,
  type SessionPatch,
  type SessionStatus,
  unknownSession,
} from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreFaults } from './faults.js';
import { newId } from './ids.js';
import { OpenTaskTally, writeMovingNoTask } from './open-task-tally.js';
import { queryBuilder, type SessionRow, StatementCache } from './schema.js';
import { prepareTurnWrite } from './session-turn.js';

// Core's constant, re-exported where it was before it moved to @agentd/core.
export { DEFAULT_IDLE_TIMEOUT_MS } from '@agentd/core/store';

function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    userKey: row.user_key,
    address: parseJson<Address>(row.address),
    name: row.name,
    agent: row.agent,
    persona: row.persona,
    status: row.status as SessionStatus,
    active: row.active === 1,
    idleTimeoutMs: row.idle_timeout_ms,
    lastActivityAt: row.last_activity_at,
    createdAt: row.created_at,
    snapshot: row.snapshot === null ? null : parseJson(row.snapshot),
    resource: row.resource === null ? null : parseJson<JsonObject>(row.resource),
    owner: row.owner ?? null,
    metadata: parseJson<JsonObject>(row.metadata),
  };
}

interface HistoryRow {
  role: HistoryEntry['role'];
  content: string;
  at: number;
  task_id: string | null;
}

/**
 * The SQLite {@link SessionStore}. A new session starts `idle` (nothing is running in it yet)
 * and not active; {@link SqliteSessionStore.activate} makes it the user's one active session,
 * which a unique partial index also enforces. Usually reached through {@link openSqliteStore}.
 *
 * @example
 * ```ts
 * const sessions = new SqliteSessionStore(openDatabase({ path: 'agentd.db' }));
 * const address = { channel: 'telegram', id: '42' };
 * const s = await sessions.create({ userKey: 'telegram:42', address, name: 'main', agent: 'claude' }, Date.now());
 * await sessions.activate('telegram:42', s.id);
 * ```
 */
export class SqliteSessionStore implements SessionStore {
  readonly #queries: StatementCache;
  readonly #insert: BetterSqlite3.Statement;
  readonly #byId: BetterSqlite3.Statement;
  readonly #active: BetterSqlite3.Statement;
  readonly #byName: BetterSqlite3.Statement;
  readonly #byUser: BetterSqlite3.Statement;
  readonly #byUserLive: BetterSqlite3.Statement;
  readonly #appendHistory: BetterSqlite3.Statement;
  readonly #history: BetterSqlite3.Statement;
  readonly #activate: BetterSqlite3.Transaction<(userKey: string, id: string) => void>;
  readonly #recordTurn: BetterSqlite3.Transaction<
    (id: string, entries: readonly HistoryEntry[], at: number) => SessionRow | undefined
  >;

  readonly #faults: StoreFaults;
  readonly #tally: OpenTaskTally;

  /** `faults`: where store faults are recorded, shared with the store's other parts. */
  constructor(db: BetterSqlite3.Database, faults: StoreFaults = new StoreFaults(db, 5000)) {
    this.#faults = faults;
    this.#tally = OpenTaskTally.of(db);
    this.#queries = new StatementCache(db);
    this.#insert = db.prepare(
      `INSERT INTO sessions (id, user_key, address, name, agent, persona, status, active,
         idle_timeout_ms, last_activity_at, created_at, snapshot, resource, metadata)
       VALUES (?, ?, ?, ?, ?, ?, 'idle', 0, ?, ?, ?, NULL, NULL, ?)
       RETURNING *`,
    );
    this.#byId = db.prepare('SELECT * FROM sessions WHERE id = ?');
    this.#active = db.prepare('SELECT * FROM sessions WHERE user_key = ? AND active = 1');
    // Names may repeat over time (archive "work", start a new "work"): the newest live one wins.
    this.#byName = db.prepare(
      `SELECT * FROM sessions WHERE user_key = ? AND name = ?
       ORDER BY status = 'archived', created_at DESC, rowid DESC LIMIT 1`,
    );
    this.#byUser = db.prepare(
      'SELECT * FROM sessions WHERE user_key = ? ORDER BY created_at, rowid',
    );
    this.#byUserLive = db.prepare(
      `SELECT * FROM sessions WHERE user_key = ? AND status <> 'archived' ORDER BY created_at, rowid`,
    );
    this.#appendHistory = db.prepare(
      'INSERT INTO session_history (session_id, role, content, at, task_id) VALUES (?, ?, ?, ?, ?)',
    );
    this.#history = db.prepare(
      `SELECT role, content, at, task_id FROM session_history WHERE session_id = ?
       ORDER BY seq DESC LIMIT ?`,
    );
    this.#recordTurn = db.transaction(prepareTurnWrite(db));
    const clear = db.prepare(
      'UPDATE sessions SET active = 0 WHERE user_key = ? AND active = 1 AND id <> ?',
    );
    const set = db.prepare('UPDATE sessions SET active = 1 WHERE id = ? AND user_key = ?');
    this.#activate = db.transaction((userKey: string, id: string) => {
      clear.run(userKey, id);
      if (set.run(id, userKey).changes !== 1) {
        // Throwing rolls the transaction back: the previous active session stays active.
        throw unknownSession(id, userKey);
      }
    });
  }

  async create(session: NewSession, now: number): Promise<Session> {
    const { userKey, address, name, agent, persona, idleTimeoutMs, metadata } =
      prepareNewSession(session);
    const id = newId();
    const row = (await this.#write('sessions.create', () =>
      this.#insert.get(
        id,
        userKey,
        address,
        name,
        agent,
        persona,
        idleTimeoutMs,
        now,
        now,
        metadata,
      ),
    )) as SessionRow;
    return toSession(row);
  }

  async get(id: string): Promise<Session | undefined> {
    const row = this.#byId.get(id) as SessionRow | undefined;
    return row && toSession(row);
  }

  async findActive(userKey: string): Promise<Session | undefined> {
    const row = this.#active.get(userKey) as SessionRow | undefined;
    return row && toSession(row);
  }

  async findByName(userKey: string, name: string): Promise<Session | undefined> {
    const row = this.#byName.get(userKey, name) as SessionRow | undefined;
    return row && toSession(row);
  }

  async listByUser(
    userKey: string,
    options: { includeArchived?: boolean } = {},
  ): Promise<Session[]> {
    const statement = options.includeArchived ? this.#byUser : this.#byUserLive;
    return (statement.all(userKey) as SessionRow[]).map(toSession);
  }

  async listByStatus(statuses: readonly SessionStatus[]): Promise<Session[]> {
    if (statuses.length === 0) return [];
    const query = queryBuilder
      .selectFrom('sessions')
      .selectAll()
      .where('status', 'in', statuses)
      .orderBy('created_at')
      .compile();
    return this.#queries.all<SessionRow>(query).map(toSession);
  }

  async update(id: string, patch: SessionPatch): Promise<Session | undefined> {
    const p = prepareSessionPatch(patch);
    const set: Partial<Omit<SessionRow, 'id' | 'user_key' | 'active' | 'created_at'>> = {};
    if (p.name !== undefined) set.name = p.name;
    if (p.agent !== undefined) set.agent = p.agent;
    if (p.persona !== undefined) set.persona = p.persona;
    if (p.status !== undefined) set.status = p.status;
    if (p.idleTimeoutMs !== undefined) set.idle_timeout_ms = p.idleTimeoutMs;
    if (p.lastActivityAt !== undefined) set.last_activity_at = p.lastActivityAt;
    if (p.snapshot !== undefined) set.snapshot = p.snapshot;
    if (p.resource !== undefined) set.resource = p.resource;
    if (p.owner !== undefined) set.owner = p.owner;
    if (p.metadata !== undefined) set.metadata = p.metadata;
    const columns = Object.keys(set) as (keyof typeof set)[];
    if (columns.length === 0) return this.get(id);
    // Written by hand from the fixed column names above (a query builder compiling it cost as
    // much as the update): one cached statement per set of columns.
    const query = {
      sql: `UPDATE sessions SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ? RETURNING *`,
      parameters: [...columns.map((c) => set[c]), id],
    };
    const [row] = await this.#write('sessions.update', () => this.#queries.all<SessionRow>(query));
    return row && toSession(row);
  }

  async activate(userKey: string, id: string): Promise<void> {
    await this.#write('sessions.activate', () => this.#activate.immediate(userKey, id));
  }

  /** Runs a write; waits out another process's lock and records store faults (see StoreFaults). */
  #write<T>(operation: string, write: () => T): Promise<T> {
    return writeMovingNoTask(this.#tally, this.#faults, operation, write);
  }

  async appendHistory(sessionId: string, entry: HistoryEntry): Promise<void> {
    checkHistoryEntry(entry);
    try {
      await this.#write('sessions.appendHistory', () =>
        this.#appendHistory.run(
          sessionId,
          entry.role,
          entry.content,
          entry.at,
          entry.taskId ?? null,
        ),
      );
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw unknownSession(sessionId, undefined, error);
      }
      throw error;
    }
  }

  async recordTurn(
    sessionId: string,
    entries: readonly HistoryEntry[],
    lastActivityAt: number,
  ): Promise<Session | undefined> {
    for (const entry of entries) checkHistoryEntry(entry);
    const row = await this.#write('sessions.recordTurn', () =>
      this.#recordTurn.immediate(sessionId, entries, lastActivityAt),
    );
    return row && toSession(row);
  }

  async history(sessionId: string, limit: number): Promise<HistoryEntry[]> {
    checkHistoryLimit(limit);
    const rows = this.#history.all(sessionId, limit) as HistoryRow[];
    rows.reverse();
    return rows.map((row) => {
      const entry: HistoryEntry = { role: row.role, content: row.content, at: row.at };
      if (row.task_id !== null) entry.taskId = row.task_id;
      return entry;
    });
  }
}
