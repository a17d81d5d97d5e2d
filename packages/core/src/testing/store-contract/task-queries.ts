import { describe, expect, it } from 'vitest';
import type { NewTask, TaskStatus } from '../../contracts/task.js';
import { enqueueManyInto } from '../../store-kit/fast-paths.js';
import { taskStatsOf } from '../../store-kit/task-stats.js';
import { ids, T0, type TaskHelpers, type TaskSubject } from './shared.js';

/**
 * The read side of the task store contract: `get`, `nextRunAt`, `counts`, `stats` and `list`.
 * Declared by {@link describeTaskStoreContract}; `store.tasks` is the current test's store.
 */
export function describeQueryContract(
  store: TaskSubject,
  { enqueue, claim, claimOne }: TaskHelpers,
): void {
  describe('queries', () => {
    it('returns undefined for unknown ids', async () => {
      await enqueue({ input: 'x' });
      for (const id of ['', 'nope', '../1', '1', 'x'.repeat(300)]) {
        expect(await store.tasks.get(id)).toBeUndefined();
      }
    });

    it('gives the next runAt strictly after now among pending tasks', async () => {
      expect(await store.tasks.nextRunAt(T0)).toBeUndefined();
      await enqueue({ input: 'due' });
      expect(await store.tasks.nextRunAt(T0)).toBeUndefined();
      await enqueue({ input: 'a', runAt: T0 + 500, priority: 3 });
      await enqueue({ input: 'b', runAt: T0 + 100, priority: 1 });
      const c = await enqueue({ input: 'c', runAt: T0 + 50 });
      expect(await store.tasks.nextRunAt(T0)).toBe(T0 + 50);
      await store.tasks.cancel(c.id, T0);
      expect(await store.tasks.nextRunAt(T0)).toBe(T0 + 100);
      expect(await store.tasks.nextRunAt(T0 + 100)).toBe(T0 + 500);
      expect(await store.tasks.nextRunAt(T0 + 500)).toBeUndefined();
    });

    it('counts every status, zeros included', async () => {
      expect(await store.tasks.counts()).toEqual({
        pending: 0,
        held: 0,
        running: 0,
        completed: 0,
        failed: 0,
        cancelled: 0,
      });
      const [a, b, , d] = (
        await enqueueManyInto(
          store.tasks,
          [{ input: 'a' }, { input: 'b' }, { input: 'c' }, { input: 'd' }, { input: 'e' }],
          T0,
        )
      ).map((r) => r.task);
      await claim(T0, 3);
      await store.tasks.complete(a!.id, 'runner-1', null, T0);
      await store.tasks.fail(b!.id, 'runner-1', { name: 'E', message: 'x' }, { now: T0 });
      await store.tasks.cancel(d!.id, T0);
      expect(await store.tasks.counts()).toEqual({
        pending: 1,
        held: 0,
        running: 1,
        completed: 1,
        failed: 1,
        cancelled: 1,
      });
    });

    it('reads tasks by status and priority, and the oldest runnable task, in one call', async () => {
      const empty = await taskStatsOf(store.tasks, T0);
      expect(empty.oldestRunnableAt).toBeNull();
      for (const row of Object.values(empty.byPriority)) expect(row).toEqual([0, 0, 0, 0]);

      const a = await enqueue({ input: 'a', priority: 0 }, T0);
      await enqueue({ input: 'b', priority: 3 }, T0 + 5);
      await enqueue({ input: 'c', priority: 3 }, T0 + 6);
      await enqueue({ input: 'later', priority: 1, runAt: T0 + 60_000 }, T0 + 7);
      const e = await enqueue({ input: 'e' }, T0 + 8);
      const [running] = await claim(T0 + 10, 1); // a (priority 0) runs
      expect(running?.id).toBe(a.id);
      await store.tasks.cancel(e.id, T0 + 10);

      const stats = await taskStatsOf(store.tasks, T0 + 20);
      expect(stats.byPriority.pending).toEqual([0, 1, 0, 2]);
      expect(stats.byPriority.running).toEqual([1, 0, 0, 0]);
      // The oldest due pending task: b (enqueued T0 + 5); the later task is not due yet.
      expect(stats.oldestRunnableAt).toBe(T0 + 5);
      const finals = (s: 'completed' | 'failed' | 'cancelled') =>
        stats.byPriority[s].reduce((x, y) => x + y, 0);
      expect(finals('cancelled')).toBe(1);
      expect(finals('completed') + finals('failed')).toBe(0);
      if (store.tasks.stats) expect(stats.byPriority.cancelled).toEqual([0, 0, 1, 0]);

      await store.tasks.complete(a.id, 'runner-1', 'ok', T0 + 30);
      const after = await taskStatsOf(store.tasks, T0 + 30);
      expect(after.byPriority.running).toEqual([0, 0, 0, 0]);
      if (store.tasks.stats) expect(after.byPriority.completed).toEqual([1, 0, 0, 0]);
      expect(await taskStatsOf(store.tasks, T0)).toMatchObject({ oldestRunnableAt: null });
      expect(
        await store.tasks.prune({ before: T0 + 31, statuses: ['completed', 'cancelled'] }),
      ).toBe(2);
      const pruned = await taskStatsOf(store.tasks, T0 + 30);
      expect(pruned.byPriority.completed.reduce((x, y) => x + y, 0)).toBe(0);
      expect(pruned.byPriority.cancelled.reduce((x, y) => x + y, 0)).toBe(0);
      expect(pruned.byPriority.pending).toEqual([0, 1, 0, 2]);
    });

    it('lists newest first by default, filters, and pages', async () => {
      const make = (i: number, extra: Partial<NewTask> = {}) =>
        enqueue({ input: i, ...extra }, T0 + i);
      const t0 = await make(0, { agent: 'claude', type: 'message', sessionKey: 'S' });
      const t1 = await make(1, { agent: 'gpt', type: 'webhook' });
      const t2 = await make(2, { agent: 'claude', type: 'webhook', sessionKey: 'S' });
      const t3 = await make(3, { type: 'schedule' });
      await claimOne(T0 + 10); // t0 runs
      await store.tasks.cancel(t3.id, T0 + 10);

      expect(ids(await store.tasks.list())).toEqual([t3.id, t2.id, t1.id, t0.id]);
      expect(ids(await store.tasks.list({ order: 'oldest' }))).toEqual([
        t0.id,
        t1.id,
        t2.id,
        t3.id,
      ]);
      expect(ids(await store.tasks.list({ status: 'pending' }))).toEqual([t2.id, t1.id]);
      const statuses: TaskStatus[] = ['running', 'cancelled'];
      expect(ids(await store.tasks.list({ status: statuses }))).toEqual([t3.id, t0.id]);
      expect(ids(await store.tasks.list({ agent: 'claude' }))).toEqual([t2.id, t0.id]);
      expect(ids(await store.tasks.list({ sessionKey: 'S', order: 'oldest' }))).toEqual([
        t0.id,
        t2.id,
      ]);
      expect(ids(await store.tasks.list({ type: 'webhook' }))).toEqual([t2.id, t1.id]);
      expect(ids(await store.tasks.list({ type: 'webhook', agent: 'gpt' }))).toEqual([t1.id]);
      expect(ids(await store.tasks.list({ status: 'completed' }))).toEqual([]);
      expect(ids(await store.tasks.list({ order: 'oldest', limit: 2, offset: 1 }))).toEqual([
        t1.id,
        t2.id,
      ]);
      expect(ids(await store.tasks.list({ limit: 1, offset: 3 }))).toEqual([t0.id]);
    });

    it('lists at most 100 tasks unless told otherwise', async () => {
      await enqueueManyInto(
        store.tasks,
        Array.from({ length: 105 }, (_, i) => ({ input: i })),
        T0,
      );
      expect(await store.tasks.list()).toHaveLength(100);
      expect(await store.tasks.list({ limit: 200 })).toHaveLength(105);
      expect((await store.tasks.list({ order: 'oldest' }))[0]?.input).toBe(0);
    });
  });
}
