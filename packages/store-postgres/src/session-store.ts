import { randomBytes } from 'node:crypto';
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
import { inTransaction } from './client.js';
import type { PostgresHandle } from './handle.js';

/** A row of `sessions` as node-postgres returns it (`bigint` columns come back as text). */
interface SessionRow {
  id: string;
  user_key: string;
  address: string;
  name: string;
  agent: string;
  persona: string | null;
  status: string;
  active: boolean;
  idle_timeout_ms: string;
  last_activity_at: string;
  created_at: string;
  snapshot: string | null;
  resource: string | null;
  owner: string | null;
  metadata: string;
}

function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    userKey: row.user_key,
    address: parseJson<Address>(row.address),
    name: row.name,
    agent: row.agent,
    persona: row.persona,
    status: row.status as SessionStatus,
    active: row.active,
    idleTimeoutMs: Number(row.idle_timeout_ms),
    lastActivityAt: Number(row.last_activity_at),
    createdAt: Number(row.created_at),
    snapshot: row.snapshot === null ? null : parseJson(row.snapshot),
    resource: row.resource === null ? null : parseJson<JsonObject>(row.resource),
    owner: row.owner,
    metadata: parseJson<JsonObject>(row.metadata),
  };
}

const NODE = randomBytes(4).toString('hex');
let lastMs = 0;
let counter = 0;

/** A session id that sorts by creation time: base36 ms, a counter, a random per-process part. */
function newSessionId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else {
    counter += 1;
  }
  return `${lastMs.toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${NODE}`;
}

/** The patch's fields as columns, in the order they are set. */
const PATCH_COLUMNS = {
  name: 'name',
  agent: 'agent',
  persona: 'persona',
  status: 'status',
  idleTimeoutMs: 'idle_timeout_ms',
  lastActivityAt: 'last_activity_at',
  snapshot: 'snapshot',
  resource: 'resource',
  owner: 'owner',
  metadata: 'metadata',
} as const;

/**
 * The PostgreSQL {@link SessionStore}, shared by every host on the database. A new session
 * starts `idle` and not active; {@link PostgresSessionStore.activate} makes it the user's one
 * active session in one transaction, which a unique partial index also enforces. Input is
 * checked by core's session rules, so it accepts and refuses what every store does.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore({ url: process.env.DATABASE_URL });
 * const address = { channel: 'telegram', id: '42' };
 * const s = await store.sessions.create({ userKey: 'telegram:42', address, name: 'main', agent: 'claude' }, Date.now());
 * await store.sessions.activate('telegram:42', s.id);
 * ```
 */
export class PostgresSessionStore implements SessionStore {
  readonly #handle: PostgresHandle;
  readonly #sessions: string;
  readonly #history: string;

  constructor(handle: PostgresHandle) {
    this.#handle = handle;
    this.#sessions = handle.table('sessions');
    this.#history = handle.table('session_history');
  }

  async #rows(sql: string, params: unknown[]): Promise<SessionRow[]> {
    return (await this.#handle.pool.query<SessionRow>(sql, params)).rows;
  }

  async create(session: NewSession, now: number): Promise<Session> {
    const p = prepareNewSession(session);
    const [row] = await this.#rows(
      `insert into ${this.#sessions} (id, user_key, address, name, agent, persona, status, active,
         idle_timeout_ms, last_activity_at, created_at, snapshot, resource, owner, metadata)
       values ($1, $2, $3, $4, $5, $6, 'idle', false, $7, $8, $8, null, null, null, $9)
       returning *`,
      [
        newSessionId(),
        p.userKey,
        p.address,
        p.name,
        p.agent,
        p.persona,
        p.idleTimeoutMs,
        now,
        p.metadata,
      ],
    );
    return toSession(row!);
  }

  async get(id: string): Promise<Session | undefined> {
    const [row] = await this.#rows(`select * from ${this.#sessions} where id = $1`, [id]);
    return row && toSession(row);
  }

  async findActive(userKey: string): Promise<Session | undefined> {
    const [row] = await this.#rows(
      `select * from ${this.#sessions} where user_key = $1 and active`,
      [userKey],
    );
    return row && toSession(row);
  }

  async findByName(userKey: string, name: string): Promise<Session | undefined> {
    // Names may repeat over time (archive "work", start a new "work"): the newest live one wins.
    const [row] = await this.#rows(
      `select * from ${this.#sessions} where user_key = $1 and name = $2
       order by status = 'archived', created_at desc, seq desc limit 1`,
      [userKey, name],
    );
    return row && toSession(row);
  }

  async listByUser(
    userKey: string,
    options: { includeArchived?: boolean } = {},
  ): Promise<Session[]> {
    const live = options.includeArchived ? '' : ` and status <> 'archived'`;
    const rows = await this.#rows(
      `select * from ${this.#sessions} where user_key = $1${live} order by created_at, seq`,
      [userKey],
    );
    return rows.map(toSession);
  }

  async listByStatus(statuses: readonly SessionStatus[]): Promise<Session[]> {
    if (statuses.length === 0) return [];
    const rows = await this.#rows(
      `select * from ${this.#sessions} where status = any($1::text[]) order by created_at, seq`,
      [[...statuses]],
    );
    return rows.map(toSession);
  }

  async update(id: string, patch: SessionPatch): Promise<Session | undefined> {
    const prepared = prepareSessionPatch(patch);
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [field, column] of Object.entries(PATCH_COLUMNS)) {
      const value = prepared[field as keyof typeof PATCH_COLUMNS];
      if (value === undefined) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
    if (sets.length === 0) return this.get(id);
    const [row] = await this.#rows(
      `update ${this.#sessions} set ${sets.join(', ')} where id = $1 returning *`,
      params,
    );
    return row && toSession(row);
  }

  async activate(userKey: string, id: string): Promise<void> {
    await inTransaction(this.#handle.pool, async (client) => {
      // Lock the user's sessions first (in id order: no deadlock): two hosts activating for
      // one user take turns, so the second replaces the first's choice instead of hitting
      // the unique index.
      await client.query(
        `select id from ${this.#sessions} where user_key = $1 order by id for update`,
        [userKey],
      );
      await client.query(
        `update ${this.#sessions} set active = false where user_key = $1 and active and id <> $2`,
        [userKey, id],
      );
      const set = await client.query(
        `update ${this.#sessions} set active = true where id = $1 and user_key = $2`,
        [id, userKey],
      );
      if (set.rowCount !== 1) {
        // Rolling back keeps the previous active session active.
        throw unknownSession(id, userKey);
      }
    });
  }

  async appendHistory(sessionId: string, entry: HistoryEntry): Promise<void> {
    checkHistoryEntry(entry);
    try {
      await this.#handle.pool.query(
        `insert into ${this.#history} (session_id, role, content, at, task_id)
         values ($1, $2, $3, $4, $5)`,
        [sessionId, entry.role, entry.content, entry.at, entry.taskId ?? null],
      );
    } catch (error) {
      if ((error as { code?: unknown }).code === '23503') {
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
    // One statement, one round trip: the update finds the session, the entries follow it (in
    // array order) only if it exists.
    const [row] = await this.#rows(
      `with s as (
         update ${this.#sessions} set last_activity_at = $2 where id = $1 returning *
       ), added as (
         insert into ${this.#history} (session_id, role, content, at, task_id)
         select s.id, x.role, x.content, x.at, x.task_id
         from s, unnest($3::text[], $4::text[], $5::bigint[], $6::text[])
           with ordinality as x(role, content, at, task_id, n)
         order by x.n
       )
       select * from s`,
      [
        sessionId,
        lastActivityAt,
        entries.map((e) => e.role),
        entries.map((e) => e.content),
        entries.map((e) => e.at),
        entries.map((e) => e.taskId ?? null),
      ],
    );
    return row && toSession(row);
  }

  async history(sessionId: string, limit: number): Promise<HistoryEntry[]> {
    checkHistoryLimit(limit);
    const { rows } = await this.#handle.pool.query<{
      role: HistoryEntry['role'];
      content: string;
      at: string;
      task_id: string | null;
    }>(
      `select role, content, at, task_id from ${this.#history} where session_id = $1
       order by seq desc limit $2`,
      [sessionId, limit],
    );
    rows.reverse();
    return rows.map((row) => {
      const entry: HistoryEntry = { role: row.role, content: row.content, at: Number(row.at) };
      if (row.task_id !== null) entry.taskId = row.task_id;
      return entry;
    });
  }
}
