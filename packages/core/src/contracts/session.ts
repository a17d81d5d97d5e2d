import { createToken } from '../kernel/token.js';
import type { Address } from './channel.js';
import type { JsonObject, JsonValue } from './json.js';

/** `live`: its resource is up; `idle`: up but unused; `suspended`: resource released; `archived`: closed. */
export type SessionStatus = 'live' | 'idle' | 'suspended' | 'archived';

/**
 * One named conversation of a user with an agent. A user (an address on a channel) has many,
 * one active. Times are epoch milliseconds.
 */
export interface Session {
  id: string;
  /** The owner: `${address.channel}:${address.id}`. */
  userKey: string;
  address: Address;
  name: string;
  agent: string;
  persona: string | null;
  status: SessionStatus;
  active: boolean;
  /** Suspend after this long without activity (1 to 120 minutes; default 10). */
  idleTimeoutMs: number;
  lastActivityAt: number;
  createdAt: number;
  /** What the agent's `SessionResources.suspend` returned, while suspended. */
  snapshot: JsonValue | null;
  /** Agent-specific facts about the live resource (e.g. `{ pid, command }` for orphan checks). */
  resource: JsonObject | null;
  /**
   * The host instance (`HostInfo.instanceId`) whose process holds the live resource, or null.
   * Start-up recovery only touches sessions whose owner is gone (see `ownerIsGone`).
   */
  owner: string | null;
  metadata: JsonObject;
}

/** Fields to create a session with; the store fills ids and times. */
export interface NewSession {
  userKey: string;
  address: Address;
  name: string;
  agent: string;
  persona?: string | null;
  idleTimeoutMs?: number;
  metadata?: JsonObject;
}

/** Fields a session update may change. */
export type SessionPatch = Partial<
  Pick<
    Session,
    | 'name'
    | 'agent'
    | 'persona'
    | 'status'
    | 'idleTimeoutMs'
    | 'lastActivityAt'
    | 'snapshot'
    | 'resource'
    | 'owner'
    | 'metadata'
  >
>;

/** One turn of a session's history. */
export interface HistoryEntry {
  role: 'user' | 'assistant' | 'system' | 'tool';
  content: string;
  at: number;
  taskId?: string;
}

/**
 * The end of a session run as one record: the session's last activity and the run's history
 * entries (in order). The session manager writes it with `SessionStore.recordTurn`, or hands it
 * to the runner, which writes it with its task's completion (`TaskStore.completeTurnAndClaim`).
 */
export interface SessionTurn {
  sessionId: string;
  entries: readonly HistoryEntry[];
  lastActivityAt: number;
}

/** Durable sessions and their history. The session manager in core is its only writer. */
export interface SessionStore {
  create(session: NewSession, now: number): Promise<Session>;
  get(id: string): Promise<Session | undefined>;
  /** The user's active session, if any. */
  findActive(userKey: string): Promise<Session | undefined>;
  findByName(userKey: string, name: string): Promise<Session | undefined>;
  listByUser(userKey: string, options?: { includeArchived?: boolean }): Promise<Session[]>;
  /** All sessions in the given statuses (start-up recovery, idle sweeps). */
  listByStatus(statuses: readonly SessionStatus[]): Promise<Session[]>;
  update(id: string, patch: SessionPatch): Promise<Session | undefined>;
  /** Makes `id` the user's only active session, in one transaction. */
  activate(userKey: string, id: string): Promise<void>;
  appendHistory(sessionId: string, entry: HistoryEntry): Promise<void>;
  /**
   * The end of a run in one write: sets the session's last activity and appends `entries`, in
   * order, to its history. Resolves with the updated session, or undefined (and appends
   * nothing) when there is no such session. Optional: without it, the session manager calls
   * `appendHistory` per entry and then `update`.
   *
   * @example
   * ```ts
   * await sessions.recordTurn?.(session.id, [
   *   { role: 'user', content: 'hi', at: now, taskId },
   *   { role: 'assistant', content: 'hello', at: now, taskId },
   * ], now);
   * ```
   */
  recordTurn?(
    sessionId: string,
    entries: readonly HistoryEntry[],
    lastActivityAt: number,
  ): Promise<Session | undefined>;
  /** The newest `limit` entries, oldest first. */
  history(sessionId: string, limit: number): Promise<HistoryEntry[]>;
}

export const SessionStoreToken = createToken<SessionStore>('agentd.store.sessions');
