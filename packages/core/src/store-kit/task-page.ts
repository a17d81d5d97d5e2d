import type { Task, TaskPage, TaskPageQuery, TaskStatus, TaskStore } from '../contracts/task.js';
import { TASK_STATUSES } from '../contracts/task.js';
import { AgentdError } from '../kernel/errors.js';

/** Tasks per page when a query names no limit. */
export const DEFAULT_TASK_PAGE_LIMIT = 50;
/** The most tasks one page may hold. */
export const MAX_TASK_PAGE_LIMIT = 500;
/** The longest text filter, in characters. */
export const MAX_TASK_TEXT_FILTER = 200;
/**
 * The most tasks one page call examines: a filter that matches rarely returns a short page and
 * a cursor instead of reading a million rows while a browser waits.
 */
export const TASK_PAGE_SCAN_LIMIT = 100_000;

/** A {@link TaskPageQuery} checked, with its defaults applied. */
export interface PreparedTaskPageQuery {
  statuses: readonly TaskStatus[] | undefined;
  agent: string | undefined;
  type: string | undefined;
  /** Lower-cased, or undefined when empty. */
  text: string | undefined;
  after: string | undefined;
  limit: number;
}

/**
 * Checks a {@link TaskPageQuery} the same way for every store: a limit from 1 to
 * {@link MAX_TASK_PAGE_LIMIT}, known statuses, strings where strings belong, a text filter of at
 * most {@link MAX_TASK_TEXT_FILTER} characters. Throws `E_INVALID_QUERY` otherwise.
 *
 * @example
 * ```ts
 * const q = prepareTaskPageQuery({ status: 'failed', text: 'Invoice' }); // q.text === 'invoice'
 * ```
 */
export function prepareTaskPageQuery(query: TaskPageQuery = {}): PreparedTaskPageQuery {
  const limit = query.limit ?? DEFAULT_TASK_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TASK_PAGE_LIMIT) {
    throw new AgentdError(
      'E_INVALID_QUERY',
      `limit must be a whole number from 1 to ${MAX_TASK_PAGE_LIMIT}`,
    );
  }
  const statuses =
    query.status === undefined
      ? undefined
      : typeof query.status === 'string'
        ? [query.status]
        : [...query.status];
  for (const s of statuses ?? []) {
    if (!TASK_STATUSES.includes(s)) {
      throw new AgentdError('E_INVALID_QUERY', `unknown task status "${String(s)}"`);
    }
  }
  for (const [name, value] of Object.entries({
    agent: query.agent,
    type: query.type,
    text: query.text,
    after: query.after,
  })) {
    if (value !== undefined && typeof value !== 'string') {
      throw new AgentdError('E_INVALID_QUERY', `${name} must be a string`);
    }
  }
  if (query.text !== undefined && query.text.length > MAX_TASK_TEXT_FILTER) {
    throw new AgentdError(
      'E_INVALID_QUERY',
      `the text filter is longer than ${MAX_TASK_TEXT_FILTER} characters`,
    );
  }
  return {
    statuses,
    agent: query.agent || undefined,
    type: query.type || undefined,
    text: query.text ? query.text.toLowerCase() : undefined,
    after: query.after || undefined,
    limit,
  };
}

/**
 * Whether `task` matches a prepared query's text filter (id, description or type, ignoring case).
 *
 * @example
 * ```ts
 * taskMatchesText(task, 'invoice');
 * ```
 */
export function taskMatchesText(task: Task, text: string | undefined): boolean {
  if (text === undefined) return true;
  return (
    task.id.toLowerCase().includes(text) ||
    task.description.toLowerCase().includes(text) ||
    task.type.toLowerCase().includes(text)
  );
}

/** Tasks read per `list` call by the fallback. */
const FALLBACK_BATCH = 500;
/** The fallback's cursors are offsets into the newest-first list: `o:<offset>`. */
const OFFSET_CURSOR = /^o:(\d{1,15})$/;

/**
 * One page of tasks, newest first: by the store's `pageTasks` (keyset paging) when it has one,
 * else with `list` and offsets, the text filter applied here, examining at most
 * {@link TASK_PAGE_SCAN_LIMIT} tasks per call. The fallback's offsets shift when tasks are added
 * while someone pages; a store with many tasks should implement `pageTasks`.
 *
 * @example
 * ```ts
 * const { tasks, next } = await pageTasksIn(store.tasks, { status: ['pending', 'running'], limit: 20 });
 * ```
 */
export async function pageTasksIn(store: TaskStore, query: TaskPageQuery = {}): Promise<TaskPage> {
  if (store.pageTasks) return store.pageTasks(query);
  const q = prepareTaskPageQuery(query);
  let offset = 0;
  if (q.after !== undefined) {
    const match = OFFSET_CURSOR.exec(q.after);
    if (!match)
      throw new AgentdError('E_INVALID_QUERY', 'the page cursor is not one this store gave');
    offset = Number(match[1]);
  }
  const tasks: Task[] = [];
  let examined = 0;
  while (examined < TASK_PAGE_SCAN_LIMIT) {
    const batch = await store.list({
      status: q.statuses,
      agent: q.agent,
      type: q.type,
      order: 'newest',
      limit: q.text === undefined ? q.limit - tasks.length + 1 : FALLBACK_BATCH,
      offset,
    });
    for (const task of batch) {
      if (tasks.length === q.limit) return { tasks, next: `o:${offset}` };
      offset++;
      examined++;
      if (taskMatchesText(task, q.text)) tasks.push(task);
    }
    if (batch.length === 0 || (q.text === undefined && tasks.length < q.limit)) {
      return { tasks, next: null };
    }
  }
  return { tasks, next: `o:${offset}` };
}
