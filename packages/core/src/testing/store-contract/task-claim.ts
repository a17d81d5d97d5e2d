import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../contracts/json.js';
import { enqueueManyInto } from '../../store-kit/fast-paths.js';
import { DAY, ids, MINUTE, rejection, T0, type TaskHelpers, type TaskSubject } from './shared.js';

/**
 * The claim part of the task store contract: order (priority, run-at, enqueue order), run-at,
 * one running task per session key, disjoint concurrent claims, leases and their recovery.
 * Declared by {@link describeTaskStoreContract}; `store.tasks` is the current test's store.
 */
export function describeClaimContract(
  store: TaskSubject,
  { enqueue, claim, claimOne }: TaskHelpers,
): void {
  describe('claim', () => {
    it('returns nothing from an empty queue', async () => {
      expect(await claim()).toEqual([]);
    });

    it('leases the task: running, one attempt, owner and expiry', async () => {
      const task = await enqueue({ input: 'x' });
      const [claimed] = await store.tasks.claim({
        owner: 'host:1:a',
        leaseMs: 30_000,
        now: T0 + 5,
      });
      expect(claimed).toEqual({
        ...task,
        status: 'running',
        attempts: 1,
        startedAt: T0 + 5,
        leaseOwner: 'host:1:a',
        leaseExpiresAt: T0 + 5 + 30_000,
      });
      expect(await store.tasks.get(task.id)).toEqual(claimed);
      expect(await claim(T0 + 6)).toEqual([]);
    });

    it('orders by priority, then runAt, then enqueue order', async () => {
      const low = await enqueue({ input: 'low', priority: 3, runAt: T0 - 100 });
      const later = await enqueue({ input: 'later', runAt: T0 - 10 });
      const earlierA = await enqueue({ input: 'earlier-a', runAt: T0 - 20 });
      const critical = await enqueue({ input: 'critical', priority: 0 });
      const earlierB = await enqueue({ input: 'earlier-b', runAt: T0 - 20 });
      const order = [critical.id, earlierA.id, earlierB.id, later.id, low.id];
      const oneByOne: string[] = [];
      for (let i = 0; i < 5; i++) oneByOne.push((await claimOne()).id);
      expect(oneByOne).toEqual(order);
    });

    it('returns a batch in claim order', async () => {
      const low = await enqueue({ input: 'low', priority: 3 });
      const high = await enqueue({ input: 'high', priority: 1 });
      const normal = await enqueue({ input: 'normal' });
      expect(ids(await claim(T0, 10))).toEqual([high.id, normal.id, low.id]);
    });

    it('never claims a task before its runAt', async () => {
      const task = await enqueue({ input: 'later', runAt: T0 + 1000 });
      expect(await claim(T0)).toEqual([]);
      expect(await claim(T0 + 999)).toEqual([]);
      expect(ids(await claim(T0 + 1000))).toEqual([task.id]);
    });

    it('claims up to limit tasks, one by default', async () => {
      await enqueueManyInto(
        store.tasks,
        Array.from({ length: 5 }, (_, i) => ({ input: i })),
        T0,
      );
      expect(await claim()).toHaveLength(1);
      expect(await claim(T0, 3)).toHaveLength(3);
      expect(await claim(T0, 3)).toHaveLength(1);
      expect(await claim(T0, 3)).toEqual([]);
      expect((await store.tasks.counts()).running).toBe(5);
    });

    it('runs one task per session at a time, in enqueue order', async () => {
      const a1 = await enqueue({ input: 'a1', sessionKey: 'A' });
      const a2 = await enqueue({ input: 'a2', sessionKey: 'A' });
      const b1 = await enqueue({ input: 'b1', sessionKey: 'B' });
      const free = await enqueue({ input: 'free' });
      expect(ids(await claim(T0, 10))).toEqual([a1.id, b1.id, free.id]);
      expect(await claim(T0, 10)).toEqual([]);
      await store.tasks.complete(a1.id, 'runner-1', null, T0 + 1);
      expect(ids(await claim(T0 + 1, 10))).toEqual([a2.id]);
    });

    it('never lets a later task of a session overtake an earlier one, even with higher priority', async () => {
      const first = await enqueue({ input: 'first', sessionKey: 'S', priority: 3 });
      const urgent = await enqueue({ input: 'urgent', sessionKey: 'S', priority: 0 });
      expect(ids(await claim(T0, 10))).toEqual([first.id]);
      await store.tasks.complete(first.id, 'runner-1', null, T0 + 1);
      expect(ids(await claim(T0 + 1, 10))).toEqual([urgent.id]);
    });

    it('keeps a retrying task ahead of later tasks of its session', async () => {
      const first = await enqueue({ input: 'first', sessionKey: 'S' });
      await claimOne();
      await store.tasks.fail(
        first.id,
        'runner-1',
        { name: 'E', message: 'x' },
        {
          retryAt: T0 + 1000,
          now: T0 + 1,
        },
      );
      const second = await enqueue({ input: 'second', sessionKey: 'S' }, T0 + 2);
      expect(await claim(T0 + 10, 10)).toEqual([]);
      expect(ids(await claim(T0 + 1000, 10))).toEqual([first.id]);
      await store.tasks.complete(first.id, 'runner-1', null, T0 + 1001);
      expect(ids(await claim(T0 + 1001, 10))).toEqual([second.id]);
    });

    it('does not let a session task scheduled for later block the session until then', async () => {
      const reminder = await enqueue({ input: 'remind me', sessionKey: 'S', runAt: T0 + DAY });
      const message = await enqueue({ input: 'hello', sessionKey: 'S' }, T0 + 1);
      expect(ids(await claim(T0 + 2, 10))).toEqual([message.id]);
      // Due now, but the session is busy: the reminder waits for the message to finish.
      expect(await claim(T0 + DAY, 10)).toEqual([]);
      await store.tasks.complete(message.id, 'runner-1', null, T0 + DAY);
      expect(ids(await claim(T0 + DAY, 10))).toEqual([reminder.id]);
    });

    it('hands disjoint tasks to concurrent claims', async () => {
      await enqueueManyInto(
        store.tasks,
        Array.from({ length: 60 }, (_, i) => ({ input: i, priority: (i % 4) as 0 | 1 | 2 | 3 })),
        T0,
      );
      const seen: string[] = [];
      for (let round = 0; round < 10; round++) {
        const batches = await Promise.all(
          Array.from({ length: 8 }, (_, i) => claim(T0, 3, `runner-${i}`)),
        );
        const claimed = batches.flat();
        if (claimed.length === 0) break;
        seen.push(...ids(claimed));
      }
      expect(seen).toHaveLength(60);
      expect(new Set(seen).size).toBe(60);
      expect((await store.tasks.counts()).running).toBe(60);
    });

    it('never runs two tasks of one session under concurrent claims', async () => {
      await enqueueManyInto(
        store.tasks,
        Array.from({ length: 30 }, (_, i) => ({ input: i, sessionKey: `s${i % 3}` })),
        T0,
      );
      const batches = await Promise.all(
        Array.from({ length: 10 }, (_, i) => claim(T0, 5, `runner-${i}`)),
      );
      const running = batches.flat();
      expect(running.map((t) => t.input).sort()).toEqual([0, 1, 2]);
      expect(new Set(running.map((t) => t.sessionKey)).size).toBe(3);
    });
  });

  describe('leases', () => {
    it('renews only for the owner of a running task', async () => {
      const task = await enqueue({ input: 'x' });
      expect(await store.tasks.renewLease(task.id, 'runner-1', T0 + 5 * MINUTE)).toBe(false);
      await claimOne();
      expect(await store.tasks.renewLease(task.id, 'intruder', T0 + 5 * MINUTE)).toBe(false);
      expect((await store.tasks.get(task.id))?.leaseExpiresAt).toBe(T0 + MINUTE);
      expect(await store.tasks.renewLease(task.id, 'runner-1', T0 + 5 * MINUTE)).toBe(true);
      expect((await store.tasks.get(task.id))?.leaseExpiresAt).toBe(T0 + 5 * MINUTE);
      await store.tasks.complete(task.id, 'runner-1', null, T0 + 1);
      expect(await store.tasks.renewLease(task.id, 'runner-1', T0 + 9 * MINUTE)).toBe(false);
      expect(await store.tasks.renewLease('no-such-task', 'runner-1', T0)).toBe(false);
    });

    it('recovers expired leases: back to pending with the attempt counted', async () => {
      const expired = await enqueue({ input: 'expired' });
      const alive = await enqueue({ input: 'alive' });
      await claimOne(T0, 'dead-runner');
      await store.tasks.claim({ owner: 'live-runner', leaseMs: 10 * MINUTE, now: T0 });
      expect(await store.tasks.recoverExpired(T0 + MINUTE - 1)).toEqual({
        requeued: [],
        failed: [],
      });
      // A lease ending exactly now has expired.
      expect(await store.tasks.recoverExpired(T0 + MINUTE)).toEqual({
        requeued: [expired.id],
        failed: [],
      });
      const requeued = await store.tasks.get(expired.id);
      expect(requeued).toMatchObject({
        status: 'pending',
        attempts: 1,
        leaseOwner: null,
        leaseExpiresAt: null,
      });
      expect((await store.tasks.get(alive.id))?.status).toBe('running');
      expect(await store.tasks.complete(expired.id, 'dead-runner', null, T0 + MINUTE)).toBe(false);
      const again = await claimOne(T0 + MINUTE, 'runner-2');
      expect(again.id).toBe(expired.id);
      expect(again.attempts).toBe(2);
    });

    it('fails a task whose expired attempt was its last', async () => {
      const task = await enqueue({ input: 'x', maxAttempts: 1 });
      await claimOne();
      expect(await store.tasks.recoverExpired(T0 + 2 * MINUTE)).toEqual({
        requeued: [],
        failed: [task.id],
      });
      const failed = await store.tasks.get(task.id);
      expect(failed).toMatchObject({
        status: 'failed',
        finishedAt: T0 + 2 * MINUTE,
        leaseOwner: null,
      });
      expect(failed?.error?.name).toBe('LeaseExpired');
      expect(failed?.error?.message.length).toBeGreaterThan(0);
      expect(await claim(T0 + 3 * MINUTE)).toEqual([]);
    });

    it('recovers every lease of the named (gone) owners at once, expired or not, and no other', async () => {
      const gone1 = await enqueue({ input: 'gone-1' });
      const gone2 = await enqueue({ input: 'gone-2' });
      const live = await enqueue({ input: 'live' });
      const last = await enqueue({ input: 'last', maxAttempts: 1 });
      await store.tasks.claim({ owner: 'gone', leaseMs: 10 * MINUTE, limit: 2, now: T0 });
      await store.tasks.claim({ owner: 'live', leaseMs: 10 * MINUTE, now: T0 });
      await store.tasks.claim({ owner: 'gone', leaseMs: 10 * MINUTE, now: T0 });
      expect(await store.tasks.recoverExpired(T0 + 1, { owners: [] })).toEqual({
        requeued: [],
        failed: [],
      });
      const report = await store.tasks.recoverExpired(T0 + 1, { owners: ['gone', 'unknown'] });
      expect(report.requeued.sort()).toEqual([gone1.id, gone2.id].sort());
      expect(report.failed).toEqual([last.id]);
      expect(await store.tasks.get(gone1.id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        leaseOwner: null,
        leaseExpiresAt: null,
      });
      expect((await store.tasks.get(last.id))?.status).toBe('failed');
      expect(await store.tasks.get(live.id)).toMatchObject({
        status: 'running',
        leaseOwner: 'live',
      });
      // Their next claim is at once: nothing waits for the old lease to expire.
      expect((await claim(T0 + 2, 2, 'runner-2')).map((t) => t.id).sort()).toEqual(
        [gone1.id, gone2.id].sort(),
      );
    });

    it('records a run’s process with its lease for the holder only, and lists every lease', async () => {
      const a = await enqueue({ input: 'a' });
      const b = await enqueue({ input: 'b' });
      await enqueue({ input: 'waiting' });
      const child = { pid: 4250, startTime: 81990, command: 'node agent.js', hostname: 'box' };
      expect(await store.tasks.recordLeaseProcess(a.id, 'runner-1', child)).toBe(false);
      await claimOne(T0, 'runner-1');
      await store.tasks.claim({ owner: 'runner-2', leaseMs: 2 * MINUTE, now: T0 });
      expect(await store.tasks.recordLeaseProcess(a.id, 'intruder', child)).toBe(false);
      expect(await store.tasks.recordLeaseProcess('no-such-task', 'runner-1', child)).toBe(false);
      expect(await store.tasks.recordLeaseProcess(a.id, 'runner-1', { pid: 1 })).toBe(true);
      // A later record replaces the earlier one.
      expect(await store.tasks.recordLeaseProcess(a.id, 'runner-1', child)).toBe(true);
      const leases = await store.tasks.listLeases();
      expect(leases.sort((x, y) => x.expiresAt - y.expiresAt)).toEqual([
        { taskId: a.id, owner: 'runner-1', expiresAt: T0 + MINUTE, process: child },
        { taskId: b.id, owner: 'runner-2', expiresAt: T0 + 2 * MINUTE, process: null },
      ]);
      const err = await rejection(
        store.tasks.recordLeaseProcess(a.id, 'runner-1', [1] as unknown as JsonObject),
      );
      expect(err.message).toMatch(/process/);
      // A recovered lease forgets its process: the next run records its own.
      await store.tasks.recoverExpired(T0 + MINUTE);
      expect((await store.tasks.listLeases()).map((l) => l.taskId)).toEqual([b.id]);
      const again = await claimOne(T0 + MINUTE, 'runner-3');
      expect(again.id).toBe(a.id);
      expect((await store.tasks.listLeases()).find((l) => l.taskId === a.id)?.process).toBe(null);
      await store.tasks.complete(a.id, 'runner-3', null, T0 + MINUTE + 1);
      expect((await store.tasks.listLeases()).map((l) => l.taskId)).toEqual([b.id]);
    });

    it('lets the old owner complete nothing once the task was recovered and claimed again', async () => {
      const task = await enqueue({ input: 'x' });
      await claimOne(T0, 'old');
      await store.tasks.recoverExpired(T0 + MINUTE);
      await claimOne(T0 + MINUTE, 'new');
      expect(await store.tasks.complete(task.id, 'old', 'late', T0 + MINUTE + 1)).toBe(false);
      expect(await store.tasks.renewLease(task.id, 'old', T0 + 9 * MINUTE)).toBe(false);
      expect(
        await store.tasks.fail(task.id, 'old', { name: 'E', message: 'x' }, { now: T0 }),
      ).toBeUndefined();
      expect(await store.tasks.complete(task.id, 'new', 'fresh', T0 + MINUTE + 2)).toBe(true);
      expect((await store.tasks.get(task.id))?.result).toBe('fresh');
    });
  });
}
