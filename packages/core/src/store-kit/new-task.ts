import type { Address } from '../contracts/channel.js';
import type { JsonObject } from '../contracts/json.js';
import type { NewAnswer, NewTask, Task, TaskPriority } from '../contracts/task.js';
import { AgentdError, PayloadTooLargeError } from '../kernel/errors.js';
import { parseJson, toJsonText } from './json-text.js';

// The rules of a new task live here, not in each store: every store calls prepareNewTask and
// only maps its result to rows, so the SQLite store, the memory store and the next one (e.g.
// PostgreSQL) accept and refuse exactly the same tasks, with the same messages.

/**
 * The default cap on a task's `input` plus `metadata`, as UTF-8 JSON: 1 MiB, far above any chat
 * message or webhook body, small enough to keep claims fast.
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

/** A description longer than this (in code points) is cut, with an ellipsis. */
export const TASK_DESCRIPTION_MAX = 200;
/** The attempts a task gets when `maxAttempts` is not given. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** The priority a task gets when `priority` is not given (normal). */
export const DEFAULT_TASK_PRIORITY: TaskPriority = 2;
/** The type a task gets when `type` is not given. */
export const DEFAULT_TASK_TYPE = 'manual';

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
 * checkTaskTime(1_700_000_000_000.7, 'runAt'); // 1700000000000
 * checkTaskTime(Number.NaN, 'runAt'); // throws: runAt must be a finite number of epoch milliseconds
 * ```
 */
export function checkTaskTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(`${field} must be a finite number of epoch milliseconds, got ${String(value)}`);
  }
  if (value > MAX_RUN_AT) {
    throw invalid(`${field} ${value} is after the year 9999; pass epoch milliseconds`);
  }
  return Math.floor(value);
}

function truncate(text: string): string {
  if (text.length <= TASK_DESCRIPTION_MAX) return text;
  // By code point, so an emoji is never cut in half into an unpaired surrogate.
  const points = Array.from(text);
  return points.length <= TASK_DESCRIPTION_MAX
    ? text
    : `${points.slice(0, TASK_DESCRIPTION_MAX - 1).join('')}…`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const [size, unit] =
    bytes >= 1024 * 1024 ? [bytes / (1024 * 1024), 'MiB'] : [bytes / 1024, 'KiB'];
  return `${size.toFixed(1)} ${unit} (${bytes} bytes)`;
}

/**
 * The JSON texts of a prepared task, which a store writes as they are (SQL stores) or keeps
 * (the memory store). {@link prepareNewTask} fills one in; a store reuses one holder for every
 * task, so the hot path allocates no object per task for them.
 *
 * @example
 * ```ts
 * const json = newTaskJson();
 * prepareNewTask({ input: { text: 'hi' } }, Date.now(), DEFAULT_MAX_PAYLOAD_BYTES, json);
 * json.input; // '{"text":"hi"}'
 * ```
 */
export interface NewTaskJson {
  /** The `input` as JSON text (`'null'` when absent). */
  input: string;
  /** The `metadata` as JSON text (`'{}'` when absent). */
  metadata: string;
  /** The `replyTo` address as JSON text, or null. */
  replyTo: string | null;
}

/**
 * An empty {@link NewTaskJson} holder to pass to {@link prepareNewTask}; keep one per store.
 *
 * @example
 * ```ts
 * const json = newTaskJson(); // { input: 'null', metadata: '{}', replyTo: null }
 * ```
 */
export function newTaskJson(): NewTaskJson {
  return { input: 'null', metadata: '{}', replyTo: null };
}

/**
 * The one place a new task is checked and completed with its defaults, for every store: it
 * validates `input` (the type, priority 0-3, `maxAttempts` ≥ 1, `runAt` finite and before year
 * 10000, keys non-empty, `replyTo` an address, input and metadata JSON that round-trips, their
 * size under `maxPayloadBytes`), applies the defaults (priority 2, 3 attempts, type `manual`,
 * run now, description from a text input cut to 200 characters), writes the JSON texts into
 * `json`, and returns the task the store must record, with `id` still `''` for the store to set.
 *
 * Throws an `E_INVALID_TASK` {@link AgentdError} saying what is wrong (a
 * {@link PayloadTooLargeError} for a payload over the cap); `json` is written only once every
 * check passed. A store maps the returned task (and `json`'s texts) to its
 * row; objects in it are fresh copies (parsed back from the text), so later changes to the
 * caller's objects cannot alias the stored task, unless the task was `handedOver`: its own
 * input and metadata objects are then kept as they are.
 *
 * Written for the enqueue hot path: no object per task besides the returned one, no parse for
 * primitive inputs, and an exact UTF-8 byte count only for payloads that could be over the cap.
 *
 * @example
 * ```ts
 * const json = newTaskJson(); // once per store
 * const task = prepareNewTask({ input: 'hello', priority: 1 }, Date.now(), DEFAULT_MAX_PAYLOAD_BYTES, json);
 * task.description; // 'hello'
 * json.input; // '"hello"'
 * ```
 */
export function prepareNewTask(
  input: NewTask,
  now: number,
  maxPayloadBytes: number,
  json: NewTaskJson,
): Task {
  if (typeof input !== 'object' || input === null) throw invalid('a task must be an object');
  if (!Number.isFinite(now)) throw invalid(`now must be epoch milliseconds, got ${String(now)}`);
  // Each field is read once: a getter on the task cannot change between the check and the use.
  const value = input.input;
  const given = input.description;
  if (value === undefined && given === undefined) {
    throw invalid('a task needs an input or a description');
  }
  const inputText = value === undefined ? 'null' : toJsonText(value, 'input', 'E_INVALID_TASK');
  let metadataText = '{}';
  const metadata = input.metadata;
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw invalid('metadata must be a plain object');
    }
    metadataText = toJsonText(metadata, 'metadata', 'E_INVALID_TASK');
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

  const priority = input.priority ?? DEFAULT_TASK_PRIORITY;
  if (!Number.isInteger(priority) || priority < 0 || priority > 3) {
    throw invalid(`priority must be 0, 1, 2 or 3, got ${String(priority)}`);
  }
  const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw invalid(`maxAttempts must be an integer of at least 1, got ${String(maxAttempts)}`);
  }
  const runAt = input.runAt === undefined ? now : checkTaskTime(input.runAt, 'runAt');
  const type = input.type ?? DEFAULT_TASK_TYPE;
  if (typeof type !== 'string' || type === '') throw invalid('type must be a non-empty string');
  const agent = optionalKey(input.agent, 'agent');
  const idempotencyKey = optionalKey(input.idempotencyKey, 'idempotencyKey');
  const sessionKey = optionalKey(input.sessionKey, 'sessionKey');
  let description: string;
  if (given !== undefined) {
    if (typeof given !== 'string') throw invalid('description must be a string');
    description = given;
  } else {
    description = typeof value === 'string' ? truncate(value) : type;
  }
  const handedOver = input.handedOver === true;
  let replyText: string | null = null;
  const replyTo = input.replyTo;
  if (replyTo !== undefined && replyTo !== null) {
    const to = replyTo as Partial<Address>;
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

  json.input = inputText;
  json.metadata = metadataText;
  json.replyTo = replyText;
  return {
    id: '',
    // Objects are parsed back from the stored text, so the caller gets exactly what a later
    // read returns and later changes to its own object cannot alias the task, unless the caller
    // handed them over. Primitives are already immutable and identical to their round trip:
    // skip the parse on the hot path.
    input:
      typeof value === 'object' && value !== null
        ? handedOver
          ? value
          : parseJson(inputText)
        : (value ?? null),
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
    metadata:
      metadataText === '{}'
        ? {}
        : handedOver
          ? (metadata as JsonObject)
          : parseJson<JsonObject>(metadataText),
    leaseOwner: null,
    leaseExpiresAt: null,
  };
}

/**
 * A batch's validation error, prefixed with the index of the task that caused it
 * (`tasks[70]: runAt must be ...`), as `TaskStore.enqueueMany` promises. Other errors
 * pass through unchanged.
 *
 * @example
 * ```ts
 * try { prepareNewTask(tasks[i], now, cap, json); } catch (error) { throw atTaskIndex(error, i); }
 * ```
 */
export function atTaskIndex(error: unknown, index: number): unknown {
  return error instanceof AgentdError
    ? new AgentdError(error.code, `tasks[${index}]: ${error.message}`, { cause: error })
    : error;
}

/**
 * Checks an immediate answer for `TaskStore.recordAnswer` and returns the finished `answer`
 * task a store records for it (`id` still `''`), with the JSON texts of its result, reply
 * address and metadata. Throws `E_INVALID_TASK` without text, an
 * idempotency key or a reply address.
 *
 * @example
 * ```ts
 * const { task, owesReply } = prepareAnswer({ replyTo, text: 'hi', idempotencyKey: 'k' }, now);
 * ```
 */
export function prepareAnswer(
  answer: NewAnswer,
  now: number,
): {
  task: Task;
  /** The JSON texts to store: result, replyTo, metadata. */
  resultText: string;
  replyToText: string;
  metadataText: string;
  /** Whether the answer owes a reply (its text is not blank). */
  owesReply: boolean;
} {
  const to = answer?.replyTo as Partial<Address> | undefined;
  if (
    typeof answer?.text !== 'string' ||
    typeof answer.idempotencyKey !== 'string' ||
    answer.idempotencyKey === '' ||
    typeof to?.channel !== 'string' ||
    typeof to.id !== 'string'
  ) {
    throw invalid('an answer needs text, an idempotencyKey and a replyTo address');
  }
  const at = checkTaskTime(now, 'now');
  const replyToText = toJsonText(answer.replyTo, 'replyTo', 'E_INVALID_TASK');
  const metadataText = toJsonText(answer.metadata ?? {}, 'metadata', 'E_INVALID_TASK');
  const { text } = answer;
  return {
    task: {
      id: '',
      input: null,
      description:
        text.length > TASK_DESCRIPTION_MAX ? `${text.slice(0, TASK_DESCRIPTION_MAX - 1)}…` : text,
      type: 'answer',
      agent: null,
      priority: DEFAULT_TASK_PRIORITY,
      status: 'completed',
      attempts: 0,
      maxAttempts: 1,
      createdAt: at,
      runAt: at,
      startedAt: at,
      finishedAt: at,
      result: text,
      error: null,
      idempotencyKey: answer.idempotencyKey,
      sessionKey: null,
      replyTo: parseJson<Address>(replyToText),
      metadata: parseJson<JsonObject>(metadataText),
      leaseOwner: null,
      leaseExpiresAt: null,
    },
    resultText: JSON.stringify(text),
    replyToText,
    metadataText,
    owesReply: text.trim() !== '',
  };
}
