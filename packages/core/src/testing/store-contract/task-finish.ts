import { describe, expect, it } from 'vitest';
import { completeAndClaimIn, completeManyIn, enqueueManyInto } from '../../store-kit/fast-paths.js';
import { DAY, MINUTE, T0, type TaskHelpers, type TaskSubject } from './shared.js';

/**
 * How tasks end, in the task store contract: completion (one, many, or with the next claim),
 * failure and retry, cancellation, and pruning of finished tasks.
 * Declared by {@link describeTaskStoreContract}; `store.tasks` is the current test's store.
 */
export function describeFinishContract(
  store: TaskSubject,
  { enqueue, claim, claimOne }: TaskHelpers,
): void {
  describe('complete', () => {
    it('completes a running task held by the owner', async () => {
      const task = await enqueue({ input: 'x' });
      await claimOne(T0 + 1);
      const result = { answer: 42, list: ['a', { b: null }] };
      expect(await store.tasks.complete(task.id, 'runner-1', result, T0 + 9)).toBe(true);
      expect(await store.tasks.get(task.id)).toEqual({
        ...task,
        status: 'completed',
        attempts: 1,
        startedAt: T0 + 1,
        finishedAt: T0 + 9,
        result,
      });
    });

    it('returns false for another owner, a second completion, or a task not running', async () => {
      const task = await enqueue({ input: 'x' });
      expect(await store.tasks.complete(task.id, 'runner-1', null, T0)).toBe(false);
      await claimOne();
      expect(await store.tasks.complete(task.id, 'intruder', null, T0)).toBe(false);
      expect((await store.tasks.get(task.id))?.status).toBe('running');
      expect(await store.tasks.complete(task.id, 'runner-1', null, T0 + 1)).toBe(true);
      expect(await store.tasks.complete(task.id, 'runner-1', 'again', T0 + 2)).toBe(false);
      expect((await store.tasks.get(task.id))?.result).toBeNull();
      expect(await store.tasks.complete('no-such-task', 'runner-1', null, T0)).toBe(false);
    });

    it('completes many in one call, counting only the tasks still held', async () => {
      const [a, b, c] = (
        await enqueueManyInto(store.tasks, [{ input: 'a' }, { input: 'b' }, { input: 'c' }], T0)
      ).map((r) => r.task);
      await claim(T0, 2, 'runner-1');
      await claim(T0, 1, 'runner-2');
      const held = await completeManyIn(
        store.tasks,
        [
          { id: a!.id, result: 'ra' },
          { id: b!.id, result: null },
          { id: c!.id, result: 'rc' },
          { id: 'no-such-task', result: null },
        ],
        'runner-1',
        T0 + 5,
      );
      expect(held).toBe(2);
      expect(await store.tasks.get(a!.id)).toMatchObject({
        status: 'completed',
        result: 'ra',
        finishedAt: T0 + 5,
      });
      expect(await store.tasks.get(b!.id)).toMatchObject({ status: 'completed', result: null });
      expect(await store.tasks.get(c!.id)).toMatchObject({
        status: 'running',
        leaseOwner: 'runner-2',
      });
      expect(await completeManyIn(store.tasks, [], 'runner-1', T0)).toBe(0);
    });

    it('completes one task and claims the next in one call, by the same claim rules', async () => {
      const [a, b, c] = (
        await enqueueManyInto(
          store.tasks,
          [{ input: 'a' }, { input: 'b', priority: 3 }, { input: 'c', priority: 1 }],
          T0,
        )
      ).map((r) => r.task);
      const [first] = await claim(T0, 1, 'runner-1');
      expect(first?.id).toBe(c!.id);
      const step = await completeAndClaimIn(store.tasks, c!.id, 'runner-1', 'rc', {
        owner: 'runner-1',
        leaseMs: 1000,
        now: T0 + 5,
      });
      expect(step.completed).toBe(true);
      expect(step.claimed.map((t) => t.id)).toEqual([a!.id]);
      expect(step.claimed[0]).toMatchObject({
        status: 'running',
        attempts: 1,
        leaseOwner: 'runner-1',
        leaseExpiresAt: T0 + 1005,
      });
      expect(await store.tasks.get(c!.id)).toMatchObject({
        status: 'completed',
        result: 'rc',
        finishedAt: T0 + 5,
      });
      // A completion that no longer holds still claims; an empty queue claims nothing.
      const lost = await completeAndClaimIn(store.tasks, c!.id, 'runner-1', 'again', {
        owner: 'runner-1',
        leaseMs: 1000,
        limit: 5,
        now: T0 + 6,
      });
      expect(lost.completed).toBe(false);
      expect(lost.claimed.map((t) => t.id)).toEqual([b!.id]);
      expect(await store.tasks.get(c!.id)).toMatchObject({ result: 'rc' });
      const empty = await completeAndClaimIn(store.tasks, a!.id, 'runner-1', null, {
        owner: 'runner-1',
        leaseMs: 1000,
        now: T0 + 7,
      });
      expect(empty).toEqual({ completed: true, claimed: [] });
    });
  });

  describe('fail', () => {
    const error = { name: 'TimeoutError', message: 'agent timed out' };

    it('schedules a retry while attempts remain', async () => {
      const task = await enqueue({ input: 'x' });
      await claimOne();
      const retried = await store.tasks.fail(task.id, 'runner-1', error, {
        retryAt: T0 + 500,
        now: T0 + 10,
      });
      expect(retried).toMatchObject({
        id: task.id,
        status: 'pending',
        attempts: 1,
        runAt: T0 + 500,
        error,
        finishedAt: null,
        leaseOwner: null,
        leaseExpiresAt: null,
      });
      expect(await store.tasks.get(task.id)).toEqual(retried);
      expect(await claim(T0 + 499)).toEqual([]);
      expect((await claimOne(T0 + 500)).attempts).toBe(2);
    });

    it('fails for good without retryAt', async () => {
      const task = await enqueue({ input: 'x' });
      await claimOne();
      const failed = await store.tasks.fail(task.id, 'runner-1', error, { now: T0 + 10 });
      expect(failed).toMatchObject({
        status: 'failed',
        finishedAt: T0 + 10,
        error,
        leaseOwner: null,
      });
      expect(await claim(T0 + DAY)).toEqual([]);
    });

    it('fails for good when the last attempt fails, even with retryAt', async () => {
      const task = await enqueue({ input: 'x', maxAttempts: 2 });
      await claimOne();
      await store.tasks.fail(task.id, 'runner-1', error, { retryAt: T0 + 1, now: T0 });
      await claimOne(T0 + 1);
      const failed = await store.tasks.fail(task.id, 'runner-1', error, {
        retryAt: T0 + 2,
        now: T0 + 1,
      });
      expect(failed).toMatchObject({ status: 'failed', attempts: 2, finishedAt: T0 + 1 });
      expect(await claim(T0 + DAY)).toEqual([]);
    });

    it('returns undefined when the lease is not held', async () => {
      const task = await enqueue({ input: 'x' });
      expect(await store.tasks.fail(task.id, 'runner-1', error, { now: T0 })).toBeUndefined();
      await claimOne();
      expect(await store.tasks.fail(task.id, 'intruder', error, { now: T0 })).toBeUndefined();
      expect(await store.tasks.get(task.id)).toMatchObject({
        status: 'running',
        leaseOwner: 'runner-1',
        error: null,
      });
    });
  });

  describe('cancel', () => {
    it('cancels a pending task', async () => {
      const task = await enqueue({ input: 'x' });
      const cancelled = await store.tasks.cancel(task.id, T0 + 3);
      expect(cancelled).toEqual({ ...task, status: 'cancelled', finishedAt: T0 + 3 });
      expect(await claim(T0 + 4)).toEqual([]);
    });

    it('cancels a running task, so its runner can no longer complete it', async () => {
      const task = await enqueue({ input: 'x' });
      await claimOne();
      const cancelled = await store.tasks.cancel(task.id, T0 + 3);
      expect(cancelled).toMatchObject({
        status: 'cancelled',
        finishedAt: T0 + 3,
        leaseOwner: null,
        leaseExpiresAt: null,
      });
      expect(await store.tasks.complete(task.id, 'runner-1', 'late', T0 + 4)).toBe(false);
      expect(await store.tasks.renewLease(task.id, 'runner-1', T0 + MINUTE)).toBe(false);
      expect(
        await store.tasks.fail(task.id, 'runner-1', { name: 'E', message: 'x' }, { now: T0 }),
      ).toBeUndefined();
      expect((await store.tasks.get(task.id))?.status).toBe('cancelled');
    });

    it('returns undefined for a final or unknown task', async () => {
      const done = await enqueue({ input: 'done' });
      await claimOne();
      await store.tasks.complete(done.id, 'runner-1', null, T0);
      expect(await store.tasks.cancel(done.id, T0 + 1)).toBeUndefined();
      expect((await store.tasks.get(done.id))?.status).toBe('completed');
      const twice = await enqueue({ input: 'twice' });
      await store.tasks.cancel(twice.id, T0);
      expect(await store.tasks.cancel(twice.id, T0 + 1)).toBeUndefined();
      expect((await store.tasks.get(twice.id))?.finishedAt).toBe(T0);
      expect(await store.tasks.cancel('no-such-task', T0)).toBeUndefined();
    });
  });

  describe('prune', () => {
    it('deletes finished tasks older than the cut-off, up to the limit per call, and nothing else', async () => {
      const done = await enqueue({ input: 'done', idempotencyKey: 'k-done' });
      const failed = await enqueue({ input: 'failed', maxAttempts: 1 });
      const cancelled = await enqueue({ input: 'cancelled' });
      const recent = await enqueue({ input: 'recent' });
      const pending = await enqueue({ input: 'pending' }, T0 - 100_000);
      await claimOne();
      await store.tasks.complete(pending.id, 'runner-1', null, T0 + 1);
      const [d] = await claim(T0, 1);
      await store.tasks.complete(d!.id, 'runner-1', 'ok', T0 + 10);
      const [f] = await claim(T0, 1);
      await store.tasks.fail(f!.id, 'runner-1', { name: 'E', message: 'x' }, { now: T0 + 20 });
      await store.tasks.cancel(cancelled.id, T0 + 30);
      const [r] = await claim(T0, 1);
      await store.tasks.complete(r!.id, 'runner-1', 'ok', T0 + 5_000);
      const still = await enqueue({ input: 'still pending' });

      expect(
        await store.tasks.prune({ before: T0 + 1_000, statuses: ['completed'], limit: 1 }),
      ).toBe(1);
      const left = [await store.tasks.get(pending.id), await store.tasks.get(done.id)];
      expect(left.filter(Boolean)).toHaveLength(1);
      expect(await store.tasks.prune({ before: T0 + 1_000, statuses: ['completed'] })).toBe(1);
      expect(await store.tasks.get(pending.id)).toBeUndefined();
      expect(await store.tasks.get(done.id)).toBeUndefined();
      expect(
        await store.tasks.prune({ before: T0 + 1_000, statuses: ['failed', 'cancelled'] }),
      ).toBe(2);
      expect(await store.tasks.get(failed.id)).toBeUndefined();
      expect(await store.tasks.get(cancelled.id)).toBeUndefined();
      expect((await store.tasks.get(recent.id))?.status).toBe('completed');
      expect((await store.tasks.get(still.id))?.status).toBe('pending');
      expect(await store.tasks.prune({ before: T0 + 1_000, statuses: ['completed'] })).toBe(0);
      // A pruned task's idempotency key is free again.
      expect(
        (await store.tasks.enqueue({ input: 'again', idempotencyKey: 'k-done' }, T0)).created,
      ).toBe(true);
    });
  });
}
