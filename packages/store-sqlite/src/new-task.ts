import {
  type NewTask,
  type NewTaskJson,
  newTaskJson,
  prepareNewTask,
  type Task,
} from '@agentd/core';

// What a new task may be, and its defaults, are core's rules (prepareNewTask): this file only
// maps a prepared task to the parameters of its row.

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

/** The JSON texts of the task being prepared; reused (inserts run synchronously, one at a time). */
const json: NewTaskJson = newTaskJson();

/**
 * Checks a new task with core's {@link prepareNewTask}, writes its row's insert parameters into
 * `params` from index `at` (in {@link INSERT_COLUMNS_SQL} order), and returns the task the row
 * becomes, its `id` still empty. Throws an `E_INVALID_TASK` error saying what is wrong, before
 * writing any parameter.
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
  const task = prepareNewTask(input, now, maxPayloadBytes, json);
  params[at] = task.priority;
  params[at + 1] = task.runAt;
  params[at + 2] = task.sessionKey;
  params[at + 3] = task.idempotencyKey;
  params[at + 4] = task.type;
  params[at + 5] = task.agent;
  params[at + 6] = task.description;
  params[at + 7] = json.input;
  params[at + 8] = task.maxAttempts;
  params[at + 9] = now;
  params[at + 10] = json.replyTo;
  params[at + 11] = json.metadata;
  return task;
}
