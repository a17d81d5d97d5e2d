import type { EventBus, Task, TaskStore } from '@agentd/core';

/** A task's status once it will not change again. */
const FINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Whether a task has finished for good (completed, failed with no retry left, or cancelled).
 *
 * @example
 * ```ts
 * isFinished({ ...task, status: 'failed' }); // true
 * ```
 */
export function isFinished(task: Task): boolean {
  return FINAL.has(task.status);
}

/** What {@link waitForTask} resolves with. */
export interface TaskWaitOutcome {
  /** The task as last seen; undefined when there is no task with that id. */
  task: Task | undefined;
  /** True when it has finished; false when the wait ended first (timeout, shutdown, abort). */
  done: boolean;
}

/**
 * Waits until task `id` finishes, woken by the host's event bus (`task.completed`, a final
 * `task.failed`, `task.cancelled`), not by polling the store. The listeners are in place before
 * the store is read, so a task finishing between the two is not missed. Ends early, with the task
 * as it is, after `timeoutMs`, when `signal` aborts (the client went away) or when the host
 * begins to stop (a long poll must not hold the drain up).
 *
 * A task run by another host on a shared store finishes on that host's bus: the wait then ends
 * at its timeout and the caller asks again.
 *
 * @example
 * ```ts
 * const { task, done } = await waitForTask({ events, tasks }, id, 30_000);
 * ```
 */
export function waitForTask(
  deps: { events: EventBus; tasks: TaskStore },
  id: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TaskWaitOutcome> {
  const { events, tasks } = deps;
  return new Promise<TaskWaitOutcome>((resolve, reject) => {
    let settled = false;
    const offs: (() => void)[] = [];
    const finish = (outcome: TaskWaitOutcome | Promise<TaskWaitOutcome>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      for (const off of offs) off();
      Promise.resolve(outcome).then(resolve, reject);
    };
    const current = async (): Promise<TaskWaitOutcome> => {
      const task = await tasks.get(id);
      return { task, done: task !== undefined && isFinished(task) };
    };
    const onFinal = (task: Task) => {
      if (task.id === id) finish({ task, done: true });
    };
    const onAbort = () => finish(current());
    offs.push(
      events.on('task.completed', ({ task }) => onFinal(task)),
      events.on('task.cancelled', ({ task }) => onFinal(task)),
      events.on('task.failed', ({ task, willRetry }) => {
        if (!willRetry) onFinal(task);
      }),
      events.on('host.stopping', () => finish(current())),
    );
    const timer = setTimeout(() => finish(current()), timeoutMs);
    timer.unref?.();
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    tasks.get(id).then(
      (task) => {
        if (task === undefined || isFinished(task)) finish({ task, done: task !== undefined });
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const off of offs) off();
        reject(error);
      },
    );
  });
}

/**
 * Reads a wait as `30s`, `2m`, `1500ms` or a bare number of seconds; undefined when the text is
 * none of these.
 *
 * @example
 * ```ts
 * parseWaitDuration('2m'); // 120000
 * parseWaitDuration('45'); // 45000
 * ```
 */
export function parseWaitDuration(text: string): number | undefined {
  const match = /^(\d{1,7})(ms|s|m)?$/.exec(text.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
}
