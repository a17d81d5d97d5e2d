import type { JsonValue } from '../contracts/json.js';
import type { Task, TaskStore } from '../contracts/task.js';
import { failureSummary } from '../runtime/failure-summary.js';
import { formatInZone } from '../scheduler/time-zone.js';
import { taskOwner } from './access.js';
import { oneLine } from './arguments.js';

/** Tasks read per page while looking for a user's recent ones. */
const PAGE = 200;
/**
 * How far back `/tasks` looks for a user's tasks: the host's newest 2,000. The store has no
 * index by sender (a store contract change), so older ones are reached with `/task <id>`.
 */
export const RECENT_TASKS_SCANNED = 2000;
/** The most of a result or error `/task <id>` shows. */
const MAX_RESULT = 3000;

/**
 * Up to `limit` of the newest tasks `visible` lets through, among the newest
 * {@link RECENT_TASKS_SCANNED}. Command answers (type `answer`) are never listed.
 *
 * @example
 * ```ts
 * await recentTasks(store, { limit: 10, visible: (t) => taskOwner(t) === 'telegram:42' });
 * ```
 */
export async function recentTasks(
  store: TaskStore,
  options: { limit: number; visible: (task: Task) => boolean; type?: string; pending?: boolean },
): Promise<Task[]> {
  const found: Task[] = [];
  for (let offset = 0; offset < RECENT_TASKS_SCANNED; offset += PAGE) {
    const page = await store.list({
      limit: PAGE,
      offset,
      ...(options.type !== undefined && { type: options.type }),
      // Held (paused) tasks are still to come: listed with the pending ones.
      ...(options.pending && { status: ['pending', 'held'] as const }),
    });
    for (const task of page) {
      if (task.type !== 'answer' && options.visible(task)) found.push(task);
      if (found.length === options.limit) return found;
    }
    if (page.length < PAGE) break;
  }
  return found;
}

/**
 * `3 min ago`, `2 h ago`, `4 d ago`.
 *
 * @example
 * ```ts
 * ago(now - 180_000, now); // '3 min ago'
 * ```
 */
export function ago(at: number, now: number): string {
  const minutes = Math.max(0, Math.round((now - at) / 60_000));
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} d ago`;
}

/** Where a task stands, in a few words: `completed 3 min ago`, `due 2026-07-02 09:00`. */
function standing(task: Task, now: number, timezone: string): string {
  switch (task.status) {
    case 'pending':
      return task.runAt > now ? `due ${formatInZone(task.runAt, timezone)}` : 'waiting to run';
    case 'held':
      return `paused (due ${formatInZone(task.runAt, timezone)})`;
    case 'running':
      return `running since ${ago(task.startedAt ?? task.createdAt, now).replace(' ago', '')}`;
    default:
      return `${task.status} ${ago(task.finishedAt ?? task.createdAt, now)}`;
  }
}

/**
 * One line of `/tasks`: id, where it stands, what it is (and, for operators, whose).
 *
 * @example
 * ```ts
 * taskLine(task, { now, timezone: 'UTC' }); // 'qkzvt1a  completed 3 min ago  check the backups'
 * ```
 */
export function taskLine(
  task: Task,
  options: { now: number; timezone: string; showOwner?: boolean },
): string {
  const owner = options.showOwner ? `  (${taskOwner(task) ?? task.type})` : '';
  return `${task.id}  ${standing(task, options.now, options.timezone)}  ${oneLine(task.description, 60)}${owner}`;
}

const asText = (value: JsonValue): string =>
  typeof value === 'string' ? value : JSON.stringify(value, null, 2);

const cut = (text: string) =>
  text.length <= MAX_RESULT ? text : `${text.slice(0, MAX_RESULT)}… (${text.length} characters)`;

/**
 * What `/task <id>` answers: the task's state, what it was asked, and its result or error. The
 * error itself (secrets masked) only with `rawError` (operators); users get its summary, as in
 * the reply a failed task sends them.
 *
 * @example
 * ```ts
 * taskDetail(task, { now, timezone: 'UTC' });
 * // 'Task qkzvt1a (background): completed 3 min ago, 1 attempt\nAsked: check the backups\nResult: all fine'
 * ```
 */
export function taskDetail(
  task: Task,
  options: { now: number; timezone: string; rawError?: boolean },
): string {
  const attempts = `${task.attempts} attempt${task.attempts === 1 ? '' : 's'}`;
  const lines = [
    `Task ${task.id} (${task.type}): ${standing(task, options.now, options.timezone)}, ${attempts}`,
    `Asked: ${oneLine(task.description, 300)}`,
  ];
  if (task.status === 'completed' && task.result !== null) {
    lines.push(`Result: ${cut(asText(task.result))}`);
  }
  if (task.error && task.status !== 'completed') {
    const error = options.rawError
      ? `${task.error.name}: ${task.error.message}`
      : failureSummary(task.error);
    lines.push(`${task.status === 'failed' ? 'Error' : 'Last error'}: ${cut(error)}`);
  }
  return lines.join('\n');
}
