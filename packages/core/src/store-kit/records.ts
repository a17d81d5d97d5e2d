import type { SessionStatus } from '../contracts/session.js';
import type { Store } from '../contracts/store.js';
import type { StateRecord, StoreRecord, TaskRecord } from '../contracts/store-records.js';

const ALL_SESSION_STATUSES: readonly SessionStatus[] = ['live', 'idle', 'suspended', 'archived'];
const DEFAULT_BATCH = 500;
/** More history than any session keeps (a page of `history()` is the whole of it). */
const ALL_HISTORY = 2 ** 31 - 1;

/** What only the store itself can tell {@link exportRecordsThrough}. */
export interface ExportSources {
  /** Every reply still owed, by task id: when it is due and the attempts made. */
  owedReplies(): Promise<ReadonlyMap<string, { dueAt: number; attempts: number }>>;
  /** Every state value not expired, with its expiry. */
  stateRecords(): Promise<StateRecord[]>;
}

/**
 * A store's {@link StoreRecords.exportRecords} built from the contract's reads: tasks oldest
 * first through `tasks.list` (every field, leases included), dead letters through
 * `listDeadLetters`, sessions through `listByStatus` and `history`. What the contract cannot
 * read (owed replies, state with expiries) comes from `sources`. Meant for a host whose hosts
 * are stopped: pages are read one after another, not in one snapshot.
 *
 * @example
 * ```ts
 * exportRecords = (options) => exportRecordsThrough(this, { owedReplies, stateRecords }, options);
 * ```
 */
export async function* exportRecordsThrough(
  store: Pick<Store, 'tasks' | 'sessions'>,
  sources: ExportSources,
  options: { batchSize?: number } = {},
): AsyncIterable<StoreRecord[]> {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
  const replies = await sources.owedReplies();
  for (let offset = 0; ; offset += batchSize) {
    const tasks = await store.tasks.list({
      status: ['pending', 'held', 'running', 'completed', 'failed', 'cancelled'],
      order: 'oldest',
      limit: batchSize,
      offset,
    });
    if (tasks.length > 0) {
      yield tasks.map(
        (task): TaskRecord => ({ kind: 'task', task, reply: replies.get(task.id) ?? null }),
      );
    }
    if (tasks.length < batchSize) break;
  }
  if (store.tasks.listDeadLetters) {
    const letters = (await store.tasks.listDeadLetters({ limit: 2 ** 31 - 1 })).reverse();
    for (let i = 0; i < letters.length; i += batchSize) {
      yield letters.slice(i, i + batchSize).map((letter) => ({ kind: 'deadLetter', letter }));
    }
  }
  const sessions = await store.sessions.listByStatus(ALL_SESSION_STATUSES);
  sessions.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  for (let i = 0; i < sessions.length; i += batchSize) {
    const batch: StoreRecord[] = [];
    for (const session of sessions.slice(i, i + batchSize)) {
      batch.push({
        kind: 'session',
        session,
        history: await store.sessions.history(session.id, ALL_HISTORY),
      });
    }
    yield batch;
  }
  const state = await sources.stateRecords();
  for (let i = 0; i < state.length; i += batchSize) yield state.slice(i, i + batchSize);
}

/**
 * Rewrites the task ids a session's history refers to (`taskId`) with the ids the tasks got in
 * the target; ids of tasks that were not copied are kept.
 *
 * @example
 * ```ts
 * const history = renumberHistory(record.history, report.taskIds);
 * ```
 */
export function renumberHistory<T extends { taskId?: string }>(
  history: readonly T[],
  taskIds: ReadonlyMap<string, string>,
): T[] {
  return history.map((entry) => {
    const to = entry.taskId === undefined ? undefined : taskIds.get(entry.taskId);
    return to === undefined ? entry : { ...entry, taskId: to };
  });
}
