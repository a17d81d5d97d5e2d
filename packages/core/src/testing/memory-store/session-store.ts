import type { Address } from '../../contracts/channel.js';
import type { JsonObject } from '../../contracts/json.js';
import type {
  HistoryEntry,
  NewSession,
  Session,
  SessionPatch,
  SessionStatus,
  SessionStore,
  SessionTurn,
} from '../../contracts/session.js';
import { parseJson } from '../../store-kit/json-text.js';
import {
  checkHistoryEntry,
  checkHistoryLimit,
  prepareNewSession,
  prepareSessionPatch,
  unknownSession,
} from '../../store-kit/session-rules.js';

/** A stored session; JSON values as text, parsed on every read (see MemoryTaskStore). */
interface SessionRecord {
  readonly seq: number;
  fields: Omit<Session, 'address' | 'snapshot' | 'resource' | 'metadata'>;
  readonly address: string;
  snapshot: string | null;
  resource: string | null;
  metadata: string;
}

function toSession(record: SessionRecord): Session {
  return {
    ...record.fields,
    address: parseJson<Address>(record.address),
    snapshot: record.snapshot === null ? null : parseJson(record.snapshot),
    resource: record.resource === null ? null : parseJson<JsonObject>(record.resource),
    metadata: parseJson<JsonObject>(record.metadata),
  };
}

const byCreation = (a: SessionRecord, b: SessionRecord) =>
  a.fields.createdAt - b.fields.createdAt || a.seq - b.seq;

/**
 * The in-memory {@link SessionStore} of {@link openMemoryStore}: sessions start `idle` and
 * inactive, one active session per user, history kept newest-last. Sessions are checked by
 * core's `prepareNewSession` and `prepareSessionPatch`, as every store's are.
 */
export class MemorySessionStore implements SessionStore {
  #nextSeq = 1;
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #history = new Map<string, HistoryEntry[]>();

  async create(session: NewSession, now: number): Promise<Session> {
    const row = prepareNewSession(session);
    const seq = this.#nextSeq++;
    const record: SessionRecord = {
      seq,
      fields: {
        id: `ses_${seq.toString(36)}_${Math.random().toString(36).slice(2, 8)}`,
        userKey: row.userKey,
        name: row.name,
        agent: row.agent,
        persona: row.persona,
        status: 'idle',
        active: false,
        idleTimeoutMs: row.idleTimeoutMs,
        lastActivityAt: now,
        createdAt: now,
        owner: null,
      },
      address: row.address,
      snapshot: null,
      resource: null,
      metadata: row.metadata,
    };
    this.#sessions.set(record.fields.id, record);
    this.#history.set(record.fields.id, []);
    return toSession(record);
  }

  async get(id: string): Promise<Session | undefined> {
    const record = this.#sessions.get(id);
    return record && toSession(record);
  }

  #ofUser(userKey: string): SessionRecord[] {
    return [...this.#sessions.values()]
      .filter((r) => r.fields.userKey === userKey)
      .sort(byCreation);
  }

  async findActive(userKey: string): Promise<Session | undefined> {
    const record = this.#ofUser(userKey).find((r) => r.fields.active);
    return record && toSession(record);
  }

  async findByName(userKey: string, name: string): Promise<Session | undefined> {
    // Names may repeat over time (archive "work", start a new "work"): the newest live one wins.
    const named = this.#ofUser(userKey).filter((r) => r.fields.name === name);
    const live = named.filter((r) => r.fields.status !== 'archived');
    const record = (live.length > 0 ? live : named).at(-1);
    return record && toSession(record);
  }

  async listByUser(
    userKey: string,
    options: { includeArchived?: boolean } = {},
  ): Promise<Session[]> {
    return this.#ofUser(userKey)
      .filter((r) => options.includeArchived || r.fields.status !== 'archived')
      .map(toSession);
  }

  async listByStatus(statuses: readonly SessionStatus[]): Promise<Session[]> {
    const wanted = new Set(statuses);
    return [...this.#sessions.values()]
      .filter((r) => wanted.has(r.fields.status))
      .sort(byCreation)
      .map(toSession);
  }

  async update(id: string, patch: SessionPatch): Promise<Session | undefined> {
    const set = prepareSessionPatch(patch);
    const record = this.#sessions.get(id);
    if (!record) return undefined;
    const { snapshot, resource, metadata, ...fields } = set;
    Object.assign(record.fields, fields);
    if (snapshot !== undefined) record.snapshot = snapshot;
    if (resource !== undefined) record.resource = resource;
    if (metadata !== undefined) record.metadata = metadata;
    return toSession(record);
  }

  async activate(userKey: string, id: string): Promise<void> {
    const target = this.#sessions.get(id);
    if (target?.fields.userKey !== userKey) {
      throw unknownSession(id, userKey);
    }
    for (const record of this.#ofUser(userKey)) record.fields.active = record === target;
  }

  async appendHistory(sessionId: string, entry: HistoryEntry): Promise<void> {
    checkHistoryEntry(entry);
    const history = this.#history.get(sessionId);
    if (!history) {
      throw unknownSession(sessionId);
    }
    const copy: HistoryEntry = { role: entry.role, content: entry.content, at: entry.at };
    if (entry.taskId !== undefined && entry.taskId !== null) copy.taskId = entry.taskId;
    history.push(copy);
  }

  async recordTurn(
    sessionId: string,
    entries: readonly HistoryEntry[],
    lastActivityAt: number,
  ): Promise<Session | undefined> {
    for (const entry of entries) checkHistoryEntry(entry);
    if (!this.#sessions.has(sessionId)) return undefined;
    for (const entry of entries) await this.appendHistory(sessionId, entry);
    return this.update(sessionId, { lastActivityAt });
  }

  /**
   * `recordTurn` at once, for the task store's `completeTurnAndClaim` (the entries checked by
   * the caller): false, with nothing written, when there is no such session.
   */
  recordTurnNow(turn: SessionTurn): boolean {
    const record = this.#sessions.get(turn.sessionId);
    const history = this.#history.get(turn.sessionId);
    if (!record || !history) return false;
    record.fields.lastActivityAt = turn.lastActivityAt;
    for (const entry of turn.entries) {
      const copy: HistoryEntry = { role: entry.role, content: entry.content, at: entry.at };
      if (entry.taskId !== undefined && entry.taskId !== null) copy.taskId = entry.taskId;
      history.push(copy);
    }
    return true;
  }

  async history(sessionId: string, limit: number): Promise<HistoryEntry[]> {
    checkHistoryLimit(limit);
    const history = this.#history.get(sessionId) ?? [];
    return (limit === 0 ? [] : history.slice(-limit)).map((entry) => ({ ...entry }));
  }

  /**
   * Stores a copied session and its history as they were, unless its id exists (`agentd store
   * copy`); it stays active only if its user has no active session here.
   */
  importSession(session: Session, history: readonly HistoryEntry[]): void {
    if (this.#sessions.has(session.id)) return;
    const activeHere = [...this.#sessions.values()].some(
      (r) => r.fields.userKey === session.userKey && r.fields.active,
    );
    const { address, snapshot, resource, metadata, ...fields } = session;
    this.#sessions.set(session.id, {
      seq: this.#nextSeq++,
      fields: { ...fields, active: session.active && !activeHere },
      address: JSON.stringify(address),
      snapshot: snapshot === null ? null : JSON.stringify(snapshot),
      resource: resource === null ? null : JSON.stringify(resource),
      metadata: JSON.stringify(metadata),
    });
    this.#history.set(
      session.id,
      history.map((h) => ({ ...h })),
    );
  }
}
