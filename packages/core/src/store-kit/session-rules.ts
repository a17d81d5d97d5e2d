import type { Address } from '../contracts/channel.js';
import type { JsonValue } from '../contracts/json.js';
import type {
  HistoryEntry,
  NewSession,
  SessionPatch,
  SessionStatus,
} from '../contracts/session.js';
import { AgentdError } from '../kernel/errors.js';
import { toJsonText } from './json-text.js';

/**
 * Ten minutes, the documented default idle timeout of a session.
 *
 * @example
 * ```ts
 * const idleFor = session.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
 * ```
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;

const STATUSES: readonly SessionStatus[] = ['live', 'idle', 'suspended', 'archived'];
const ROLES: readonly HistoryEntry['role'][] = ['user', 'assistant', 'system', 'tool'];

const invalid = (message: string) => new AgentdError('E_INVALID_SESSION', message);

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw invalid(`${field} must be a non-empty string`);
  }
  return value;
}

// The range policy (1 to 120 minutes) belongs to the session manager; a store only refuses
// values that could not be a duration.
function checkTimeout(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw invalid(`idleTimeoutMs must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function addressText(value: unknown): string {
  const a = value as Partial<Address> | null;
  if (
    typeof a !== 'object' ||
    a === null ||
    typeof a.channel !== 'string' ||
    typeof a.id !== 'string' ||
    (a.thread !== undefined && typeof a.thread !== 'string')
  ) {
    throw invalid('address must be { channel: string, id: string, thread?: string }');
  }
  return toJsonText(a, 'address', 'E_INVALID_SESSION');
}

function objectText(value: unknown, field: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${field} must be a plain object`);
  }
  return toJsonText(value, field, 'E_INVALID_SESSION');
}

/** A new session as every store records it: checked, defaults applied, JSON as text. */
export interface PreparedSession {
  userKey: string;
  /** The address as JSON text. */
  address: string;
  name: string;
  agent: string;
  persona: string | null;
  idleTimeoutMs: number;
  /** The metadata as JSON text. */
  metadata: string;
}

/**
 * Checks a new session for `SessionStore.create` and applies its defaults (no persona, a
 * ten-minute idle timeout, empty metadata). Throws `E_INVALID_SESSION`.
 *
 * @example
 * ```ts
 * const row = prepareNewSession({ userKey: 'telegram:42', address, name: 'main', agent: 'claude' });
 * ```
 */
export function prepareNewSession(session: NewSession): PreparedSession {
  const userKey = requireText(session.userKey, 'userKey');
  const address = addressText(session.address);
  const name = requireText(session.name, 'name');
  const agent = requireText(session.agent, 'agent');
  const persona = session.persona ?? null;
  if (persona !== null && typeof persona !== 'string') throw invalid('persona must be a string');
  const idleTimeoutMs =
    session.idleTimeoutMs === undefined
      ? DEFAULT_IDLE_TIMEOUT_MS
      : checkTimeout(session.idleTimeoutMs);
  const metadata = session.metadata === undefined ? '{}' : objectText(session.metadata, 'metadata');
  return { userKey, address, name, agent, persona, idleTimeoutMs, metadata };
}

/**
 * A checked session patch, JSON fields as text (`snapshot`, `resource`, `metadata`); only the
 * fields the patch names are present.
 */
export interface PreparedSessionPatch {
  name?: string;
  agent?: string;
  persona?: string | null;
  status?: SessionStatus;
  idleTimeoutMs?: number;
  lastActivityAt?: number;
  snapshot?: string | null;
  resource?: string | null;
  owner?: string | null;
  metadata?: string;
}

/**
 * Checks a patch for `SessionStore.update`. Throws `E_INVALID_SESSION`.
 *
 * @example
 * ```ts
 * prepareSessionPatch({ status: 'suspended', snapshot: { turns: 3 } }); // { status, snapshot: '{"turns":3}' }
 * ```
 */
export function prepareSessionPatch(patch: SessionPatch): PreparedSessionPatch {
  const out: PreparedSessionPatch = {};
  if (patch.name !== undefined) out.name = requireText(patch.name, 'name');
  if (patch.agent !== undefined) out.agent = requireText(patch.agent, 'agent');
  if (patch.persona !== undefined) {
    if (patch.persona !== null && typeof patch.persona !== 'string') {
      throw invalid('persona must be a string or null');
    }
    out.persona = patch.persona;
  }
  if (patch.status !== undefined) {
    if (!STATUSES.includes(patch.status)) {
      throw invalid(`status must be one of ${STATUSES.join(', ')}, got ${String(patch.status)}`);
    }
    out.status = patch.status;
  }
  if (patch.idleTimeoutMs !== undefined) out.idleTimeoutMs = checkTimeout(patch.idleTimeoutMs);
  if (patch.lastActivityAt !== undefined) {
    if (!Number.isFinite(patch.lastActivityAt)) throw invalid('lastActivityAt must be a number');
    out.lastActivityAt = patch.lastActivityAt;
  }
  if (patch.snapshot !== undefined) {
    out.snapshot =
      patch.snapshot === null
        ? null
        : toJsonText(patch.snapshot as JsonValue, 'snapshot', 'E_INVALID_SESSION');
  }
  if (patch.resource !== undefined) {
    out.resource = patch.resource === null ? null : objectText(patch.resource, 'resource');
  }
  if (patch.owner !== undefined) {
    if (patch.owner !== null && (typeof patch.owner !== 'string' || patch.owner === '')) {
      throw invalid('owner must be a non-empty string or null');
    }
    out.owner = patch.owner;
  }
  if (patch.metadata !== undefined) out.metadata = objectText(patch.metadata, 'metadata');
  return out;
}

/**
 * Checks a history entry for `SessionStore.appendHistory`. Throws `E_INVALID_SESSION`.
 *
 * @example
 * ```ts
 * checkHistoryEntry({ role: 'user', content: 'hi', at: Date.now() });
 * ```
 */
export function checkHistoryEntry(entry: HistoryEntry): void {
  if (!ROLES.includes(entry.role)) {
    throw invalid(`role must be one of ${ROLES.join(', ')}, got ${String(entry.role)}`);
  }
  if (typeof entry.content !== 'string') throw invalid('content must be a string');
  if (!Number.isFinite(entry.at)) throw invalid('at must be a number of epoch milliseconds');
}

/**
 * Checks the `limit` of `SessionStore.history` (an integer ≥ 0). Throws `E_INVALID_SESSION`.
 *
 * @example
 * ```ts
 * checkHistoryLimit(20);
 * ```
 */
export function checkHistoryLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) {
    throw invalid('limit must be an integer of at least 0');
  }
  return limit;
}

/**
 * The `E_UNKNOWN_SESSION` error every store raises for a session id that does not exist, or
 * (with `userKey`) does not belong to that user: one wording for all stores.
 *
 * @example
 * ```ts
 * if (changed !== 1) throw unknownSession(id, userKey);
 * ```
 */
export function unknownSession(id: string, userKey?: string, cause?: unknown): AgentdError {
  const owner = userKey === undefined ? '' : ` belongs to user ${JSON.stringify(userKey)}`;
  return new AgentdError(
    'E_UNKNOWN_SESSION',
    `no session ${JSON.stringify(id)}${owner}`,
    cause === undefined ? undefined : { cause },
  );
}
