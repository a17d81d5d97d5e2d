import type { Task, TaskStats, TaskStatus, TaskStore } from '../contracts/task.js';
import { TASK_STATUSES } from '../contracts/task.js';

/** Open tasks read per page by the fallback. */
const PAGE = 1000;

/**
 * Zeroed {@link TaskStats}: every status with its four priorities, nothing runnable.
 *
 * @example
 * ```ts
 * const stats = emptyTaskStats();
 * stats.byPriority.pending[2] += 1;
 * ```
 */
export function emptyTaskStats(): TaskStats {
  const byPriority = Object.fromEntries(TASK_STATUSES.map((s) => [s, [0, 0, 0, 0]])) as Record<
    TaskStatus,
    [number, number, number, number]
  >;
  return { byPriority, oldestRunnableAt: null };
}

/**
 * Adds one task to `stats` (a store without counters folds its tasks with this).
 *
 * @example
 * ```ts
 * const stats = emptyTaskStats();
 * for (const task of tasks) addToTaskStats(stats, task, Date.now());
 * ```
 */
export function addToTaskStats(
  stats: TaskStats,
  task: Pick<Task, 'status' | 'priority' | 'runAt'>,
  now: number,
): void {
  stats.byPriority[task.status][task.priority] += 1;
  if (task.status === 'pending' && task.runAt <= now) {
    if (stats.oldestRunnableAt === null || task.runAt < stats.oldestRunnableAt) {
      stats.oldestRunnableAt = task.runAt;
    }
  }
}

/**
 * Tasks by status and priority and the oldest runnable task's `runAt`: by the store's `stats`
 * when it has one (counters and index probes, cheap at any size); otherwise from `counts` for
 * the final statuses (their priorities are not told apart: all count as normal) and from every
 * open task read through `list`, which costs a read of the whole queue.
 *
 * @example
 * ```ts
 * const { byPriority, oldestRunnableAt } = await taskStatsOf(store.tasks, Date.now());
 * const depth = byPriority.pending.reduce((a, b) => a + b, 0);
 * ```
 */
export async function taskStatsOf(store: TaskStore, now: number): Promise<TaskStats> {
  if (store.stats) return store.stats(now);
  const stats = emptyTaskStats();
  const counts = await store.counts();
  for (const status of ['completed', 'failed', 'cancelled'] as const) {
    stats.byPriority[status][2] = counts[status];
  }
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.list({
      status: ['pending', 'held', 'running'],
      order: 'oldest',
      limit: PAGE,
      offset,
    });
    for (const task of page) addToTaskStats(stats, task, now);
    if (page.length < PAGE) break;
  }
  return stats;
}
