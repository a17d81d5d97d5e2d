import { describe, expect, it } from 'vitest';
import { taskStatsOf } from '../../store-kit/task-stats.js';
import { MINUTE, rejection, T0, type TaskHelpers, type TaskSubject } from './shared.js';

/**
 * Held tasks, in the task store contract: a held task is never claimed until released, keeps
 * its place (run-at, priority, session key), is counted and listed as `held`, can be cancelled,
 * and only a pending task can be held. Declared by {@link describeTaskStoreContract}.
 */
export function describeHoldContract(
  store: TaskSubject,
  { enqueue, claim, claimOne }: TaskHelpers,
): void {
  describe('hold and release', () => {
    it('never claims a held task; released, it runs in its old place', async () => {
      const reminder = await enqueue(
        { input: 'remind me', type: 'reminder', priority: 1, runAt: T0 + 10 * MINUTE },
        T0,
      );
      const other = await enqueue({ input: 'other', priority: 3 }, T0 + 1);
      const held = await store.tasks.hold(reminder.id);
      expect(held).toEqual({ ...reminder, status: 'held' });
      // Holding again changes nothing.
      expect(await store.tasks.hold(reminder.id)).toEqual({ ...reminder, status: 'held' });

      // Due long ago, still never claimed, nor waited for.
      const [first] = await claim(T0 + 60 * MINUTE, 10);
      expect(first?.id).toBe(other.id);
      expect(await claim(T0 + 60 * MINUTE, 10)).toEqual([]);
      expect(await store.tasks.nextRunAt(T0)).toBeUndefined();

      expect((await store.tasks.get(reminder.id))?.status).toBe('held');
      expect((await store.tasks.list({ status: 'held' })).map((t) => t.id)).toEqual([reminder.id]);
      expect(await store.tasks.counts()).toMatchObject({ pending: 0, held: 1, running: 1 });
      const stats = await taskStatsOf(store.tasks, T0 + 60 * MINUTE);
      expect(stats.byPriority.held).toEqual([0, 1, 0, 0]);
      expect(stats.byPriority.pending).toEqual([0, 0, 0, 0]);
      expect(stats.oldestRunnableAt).toBeNull();

      const released = await store.tasks.release(reminder.id);
      expect(released).toEqual(reminder);
      // Releasing a pending task changes nothing.
      expect(await store.tasks.release(reminder.id)).toEqual(reminder);
      expect(await store.tasks.counts()).toMatchObject({ pending: 1, held: 0 });
      expect(await store.tasks.nextRunAt(T0)).toBe(T0 + 10 * MINUTE);
      expect(await claim(T0 + 10 * MINUTE - 1)).toEqual([]);
      const ran = await claimOne(T0 + 10 * MINUTE);
      expect(ran).toMatchObject({ id: reminder.id, status: 'running', attempts: 1, priority: 1 });
      expect(await store.tasks.complete(reminder.id, 'runner-1', 'done', T0 + 11 * MINUTE)).toBe(
        true,
      );
    });

    it('keeps the priority order and the session key through a hold', async () => {
      const a = await enqueue({ input: 'a', sessionKey: 'chat:1' }, T0);
      const b = await enqueue({ input: 'b', sessionKey: 'chat:1' }, T0 + 1);
      await store.tasks.hold(a.id);
      // A held task does not keep later tasks of its session waiting.
      const first = await claimOne(T0 + 2);
      expect(first.id).toBe(b.id);
      await store.tasks.release(a.id);
      // Released, it waits for its session's running task like any other.
      expect(await claim(T0 + 3)).toEqual([]);
      await store.tasks.complete(b.id, 'runner-1', null, T0 + 4);
      expect(await claimOne(T0 + 5)).toMatchObject({ id: a.id, sessionKey: 'chat:1' });
    });

    it('survives in a fresh read and can be cancelled while held', async () => {
      const task = await enqueue({ input: 'x', runAt: T0 + MINUTE }, T0);
      await store.tasks.hold(task.id);
      expect(await store.tasks.cancel(task.id, T0 + 5)).toMatchObject({
        id: task.id,
        status: 'cancelled',
        finishedAt: T0 + 5,
      });
      expect(await store.tasks.counts()).toMatchObject({ held: 0, cancelled: 1 });
    });

    it('refuses to hold a running or finished task, and to release one', async () => {
      const running = await enqueue({ input: 'running' }, T0);
      await claimOne(T0);
      const finished = await enqueue({ input: 'finished' }, T0 + 1);
      await store.tasks.cancel(finished.id, T0 + 2);
      for (const [task, status] of [
        [running, 'running'],
        [finished, 'cancelled'],
      ] as const) {
        const holding = await rejection(store.tasks.hold(task.id));
        expect(holding.code).toBe('E_TASK_NOT_HOLDABLE');
        expect(holding.message).toContain(status);
        const releasing = await rejection(store.tasks.release(task.id));
        expect(releasing.code).toBe('E_TASK_NOT_HELD');
        expect((await store.tasks.get(task.id))?.status).toBe(status);
      }
      expect(await store.tasks.hold('no-such-task')).toBeUndefined();
      expect(await store.tasks.release('no-such-task')).toBeUndefined();
    });
  });
}
