import type { JsonObject, JsonValue } from '../contracts/json.js';
import type { NewTask, TaskPriority } from '../contracts/task.js';
import { parsePriority } from './format.js';

/** Result of reading a task file: tasks to enqueue, and what was skipped with why. */
export interface ParsedImport {
  tasks: NewTask[];
  skipped: { index: number; reason: string }[];
}

const FINISHED = new Set(['completed', 'done', 'failed', 'cancelled', 'canceled']);

/**
 * Reads a flat JSON task list, as home-grown bots keep them (`tasks.json`): an array, or an object
 * with a `tasks` array, of objects using agentd's field names or common ones (`description`/`task`/
 * `text`, `task_type`, `target_agent`, `max_retries`, `run_at` as ISO or epoch). Finished tasks are
 * skipped; each imported task gets the idempotency key `import:<id>` when it has an id, so importing
 * the same file twice adds nothing.
 *
 * @example
 * ```ts
 * parseTaskFile([{ id: 'a1', description: 'Daily report', priority: 1, target_agent: 'writer' }]);
 * // { tasks: [{ description: 'Daily report', input: 'Daily report', priority: 1, agent: 'writer', idempotencyKey: 'import:a1', ... }], skipped: [] }
 * ```
 */
export function parseTaskFile(data: unknown): ParsedImport {
  const list = Array.isArray(data) ? data : (data as { tasks?: unknown } | null)?.tasks;
  if (!Array.isArray(list))
    throw new TypeError('expected a JSON array of tasks, or an object with a "tasks" array');
  const result: ParsedImport = { tasks: [], skipped: [] };
  list.forEach((raw, index) => {
    if (typeof raw === 'string') {
      result.tasks.push({ input: raw, type: 'import' });
      return;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      result.skipped.push({ index, reason: 'not an object' });
      return;
    }
    const r = raw as Record<string, unknown>;
    const status = typeof r.status === 'string' ? r.status.toLowerCase() : 'pending';
    if (FINISHED.has(status)) {
      result.skipped.push({ index, reason: `already ${status}` });
      return;
    }
    const description = firstString(r.description, r.task, r.text, r.title, r.name);
    const input = (r.input ?? r.payload ?? description) as JsonValue | undefined;
    if (input === undefined) {
      result.skipped.push({ index, reason: 'no input or description' });
      return;
    }
    const priority = toPriority(r.priority);
    if (priority === null) {
      result.skipped.push({ index, reason: `unknown priority ${JSON.stringify(r.priority)}` });
      return;
    }
    const runAt = toTime(r.runAt ?? r.run_at);
    if (runAt === null) {
      result.skipped.push({ index, reason: 'run_at is not a date' });
      return;
    }
    const retries = r.maxAttempts ?? r.max_attempts ?? r.max_retries;
    const id = firstString(r.id);
    const metadata =
      r.metadata && typeof r.metadata === 'object' && !Array.isArray(r.metadata)
        ? (r.metadata as JsonObject)
        : undefined;
    result.tasks.push({
      input,
      ...(description !== undefined && { description }),
      type: firstString(r.type, r.task_type) ?? 'import',
      ...(priority !== undefined && { priority }),
      ...(firstString(r.agent, r.target_agent) !== undefined && {
        agent: firstString(r.agent, r.target_agent),
      }),
      ...(runAt !== undefined && { runAt }),
      ...(typeof retries === 'number' &&
        Number.isInteger(retries) &&
        retries >= 1 && { maxAttempts: retries }),
      ...(id !== undefined && { idempotencyKey: `import:${id}` }),
      ...(firstString(r.sessionKey, r.session_key) !== undefined && {
        sessionKey: firstString(r.sessionKey, r.session_key),
      }),
      ...(metadata !== undefined && { metadata }),
    });
  });
  return result;
}

function firstString(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v.trim() !== '') return v;
  for (const v of values) if (typeof v === 'number') return String(v);
  return undefined;
}

/** undefined: absent; null: present but invalid. */
function toPriority(value: unknown): TaskPriority | undefined | null {
  if (value === undefined || value === null) return undefined;
  return parsePriority(String(value)) ?? null;
}

function toTime(value: unknown): number | undefined | null {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number')
    return Number.isFinite(value) ? (value < 1e11 ? value * 1000 : value) : null;
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
