import {
  type Address,
  AgentdError,
  type JsonObject,
  type NewTask,
  PayloadTooLargeError,
  type Task,
  type TaskPriority,
} from '@agentd/core';
import { parseJson, toJsonText } from '@agentd/core/store';

/**
 * 1 MiB: far above any chat message or webhook body, small enough to keep claims fast.
 *
 * @example
 * ```ts
 * openSqliteStore({ path, maxPayloadBytes: 4 * DEFAULT_MAX_PAYLOAD_BYTES });
 * ```
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/**
 * The last millisecond of year 9999: a later `runAt` is surely a unit mistake (µs, ns).
 *
 * @example
 * ```ts
 * const runAt = Math.min(requested, MAX_RUN_AT);
 * ```
 */
export const MAX_RUN_AT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const DESCRIPTION_MAX = 200;

const invalid = (message: string) => new AgentdError('E_INVALID_TASK', message);

function optionalKey(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '') {
    throw invalid(
      `${field} must be a non-empty string, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  return value;
}

/**
 * A task time (epoch milliseconds) as stored, or an `E_INVALID_TASK` error naming `field`.
 *
 * @example
 * ```ts
 * checkTime(1_700_000_000_000.7, 'runAt'); // 1700000000000
 * checkTime(Number.NaN, 'runAt'); // throws: runAt must be a finite number of epoch milliseconds
 * ```
 */
export function checkTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(`${field} must be a finite number of epoch milliseconds, got ${String(value)}`);
  }
  if (value > MAX_RUN_AT) {
    throw invalid(`${field} ${value} is after the year 9999; pass epoch milliseconds`);
  }
  return Math.floor(value);
}

function truncate(text: string): string {
  if (text.length <= DESCRIPTION_MAX) return text;
  // By code point, so an emoji is never cut in half into an unpaired surrogate.
  const points = Array.from(text);
  return points.length <= DESCRIPTION_MAX
    ? text
    : `${points.slice(0, DESCRIPTION_MAX - 1).join('')}…`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const [size, unit] =
    bytes >= 1024 * 1024 ? [bytes / (1024 * 1024), 'MiB'] : [bytes / 1024, 'KiB'];
  return `${size.toFixed(1)} ${unit} (${bytes} bytes)`;
}

/**
 * The columns a new task's row is inserted with, in the order {@link prepareTask} writes their
 * parameters (status is always `pending`).
 */
export const INSERT_COLUMNS_SQL = `INSERT INTO tasks (status, priority, run_at, session_key,
  idempotency_key, type, agent, description, input, max_attempts, created_at, reply_to, metadata)`;
/** One row of values for {@link INSERT_COLUMNS_SQL}. */
export const INSERT_VALUES_SQL = "('pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/** The parameters {@link prepareTask} writes per task. */
export const INSERT_PARAMS = 12;

/**
 * Validates a new task, writes its row's insert parameters into `params` from index `at` (in
 * {@link INSERT_COLUMNS_SQL} order), and returns the task the row becomes, its `id` still empty.
 * Throws an `E_INVALID_TASK` error saying what is wrong, before writing any parameter.
 *
 * The parameters go straight into the caller's (reused) array rather than into an object per
 * task: a batch of 100,000 tasks would keep all those objects alive until its insert.
 *
 * @example
 * ```ts
 * const params = new Array(INSERT_PARAMS);
 * const task = prepareTask({ input: { text: 'hi' } }, Date.now(), DEFAULT_MAX_PAYLOAD_BYTES, params, 0);
 * params[7]; // '{"text":"hi"}' (the input column)
 * ```
 */
export function prepareTask(
  input: NewTask,
  now: number,
  maxPayloadBytes: number,
  params: unknown[],
  at: number,
): Task {
  if (typeof input !== 'object' || input === null) throw invalid('a task must be an object');
  if (!Number.isFinite(now)) throw invalid(`now must be epoch milliseconds, got ${String(now)}`);
  if (input.input === undefined && input.description === undefined) {
    throw invalid('a task needs an input or a description');
  }
  const inputText =
    input.input === undefined ? 'null' : toJsonText(input.input, 'input', 'E_INVALID_TASK');
  let metadataText = '{}';
  if (input.metadata !== undefined && input.metadata !== null) {
    if (typeof input.metadata !== 'object' || Array.isArray(input.metadata)) {
      throw invalid('metadata must be a plain object');
    }
    metadataText = toJsonText(input.metadata, 'metadata', 'E_INVALID_TASK');
  }
  const chars = inputText.length + metadataText.length;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most payloads skip the exact count.
  if (chars * 3 > maxPayloadBytes) {
    const bytes = Buffer.byteLength(inputText) + Buffer.byteLength(metadataText);
    if (bytes > maxPayloadBytes) {
      throw new PayloadTooLargeError(
        bytes,
        maxPayloadBytes,
        `task payload (input and metadata as JSON) is ${formatBytes(bytes)}, over the cap of ${formatBytes(maxPayloadBytes)}; store large data elsewhere and pass a reference`,
      );
    }
  }

  const priority = input.priority ?? 2;
  if (!Number.isInteger(priority) || priority < 0 || priority > 3) {
    throw invalid(`priority must be 0, 1, 2 or 3, got ${String(priority)}`);
  }
  const maxAttempts = input.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw invalid(`maxAttempts must be an integer of at least 1, got ${String(maxAttempts)}`);
  }
  const runAt = input.runAt === undefined ? now : checkTime(input.runAt, 'runAt');
  const type = input.type ?? 'manual';
  if (typeof type !== 'string' || type === '') throw invalid('type must be a non-empty string');
  const agent = optionalKey(input.agent, 'agent');
  const idempotencyKey = optionalKey(input.idempotencyKey, 'idempotencyKey');
  const sessionKey = optionalKey(input.sessionKey, 'sessionKey');
  let description: string;
  if (input.description !== undefined) {
    if (typeof input.description !== 'string') throw invalid('description must be a string');
    description = input.description;
  } else {
    description = typeof input.input === 'string' ? truncate(input.input) : type;
  }
  let replyText: string | null = null;
  if (input.replyTo !== undefined && input.replyTo !== null) {
    const to = input.replyTo as Partial<Address>;
    if (
      typeof to !== 'object' ||
      typeof to.channel !== 'string' ||
      typeof to.id !== 'string' ||
      (to.thread !== undefined && typeof to.thread !== 'string')
    ) {
      throw invalid('replyTo must be an address: { channel: string, id: string, thread?: string }');
    }
    replyText = toJsonText(to, 'replyTo', 'E_INVALID_TASK');
  }

  params[at] = priority;
  params[at + 1] = runAt;
  params[at + 2] = sessionKey;
  params[at + 3] = idempotencyKey;
  params[at + 4] = type;
  params[at + 5] = agent;
  params[at + 6] = description;
  params[at + 7] = inputText;
  params[at + 8] = maxAttempts;
  params[at + 9] = now;
  params[at + 10] = replyText;
  params[at + 11] = metadataText;
  return {
    id: '',
    // Objects are parsed back from the stored text, so the caller gets exactly what a later
    // read returns and later changes to its own object cannot alias the task. Primitives are
    // already immutable and identical to their round trip: skip the parse on the hot path.
    input:
      typeof input.input === 'object' && input.input !== null
        ? parseJson(inputText)
        : (input.input ?? null),
    description,
    type,
    agent,
    priority: priority as TaskPriority,
    status: 'pending',
    attempts: 0,
    maxAttempts,
    createdAt: now,
    runAt,
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
    idempotencyKey,
    sessionKey,
    replyTo: replyText === null ? null : parseJson<Address>(replyText),
    metadata: metadataText === '{}' ? {} : parseJson<JsonObject>(metadataText),
    leaseOwner: null,
    leaseExpiresAt: null,
  };
}
