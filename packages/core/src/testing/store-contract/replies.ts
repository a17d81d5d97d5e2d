import { describe, expect, it } from 'vitest';
import { REPLY_HOLD_MS, type Task, type TaskStore } from '../../contracts/task.js';
import { completeAndClaimIn, completeManyIn } from '../../store-kit/fast-paths.js';
import {
  ADDRESS,
  type ContractFactory,
  type ContractSuiteOptions,
  DAY,
  MINUTE,
  T0,
  useSubject,
} from './shared.js';

const OWNER = 'runner-1';

/**
 * Declares, as vitest tests, the reply outbox every {@link TaskStore} must keep
 * (`claimReplies`, `recordReply`, `countOwedReplies`): a task with a `replyTo` owes a reply once
 * it completes with a result or fails for good (by `fail` or lease recovery), due
 * {@link REPLY_HOLD_MS} later; handed-out replies are held for their lease; sent and given-up
 * replies are settled. Each test gets a fresh task store from `createTasks`.
 *
 * @example
 * ```ts
 * import { describeReplyContract, openMemoryStore } from '@agentd/core/testing';
 *
 * describeReplyContract('memory', () => openMemoryStore().tasks);
 * ```
 */
export function describeReplyContract(
  name: string,
  createTasks: ContractFactory<TaskStore>,
  options: ContractSuiteOptions<TaskStore> = {},
): void {
  describe(`Reply outbox contract: ${name}`, () => {
    const subject = useSubject(createTasks, options);
    const store = {
      get tasks() {
        return subject.current;
      },
    };
    /** Enqueues a task (with a reply address unless `replyTo: false`) and claims it. */
    const running = async (options: { replyTo?: false; maxAttempts?: number } = {}) => {
      const { task } = await store.tasks.enqueue(
        {
          input: 'hello',
          ...(options.replyTo === false ? {} : { replyTo: ADDRESS }),
          maxAttempts: options.maxAttempts ?? 3,
        },
        T0,
      );
      const [claimed] = await store.tasks.claim({ owner: OWNER, leaseMs: MINUTE, now: T0 });
      expect(claimed?.id).toBe(task.id);
      return task;
    };
    const owed = (now: number, limit?: number) =>
      store.tasks.claimReplies({ now, leaseMs: MINUTE, limit });
    const owedIds = async (now: number) => (await owed(now)).map((r) => r.task.id);

    describe('replies', () => {
      it('owes a reply once a task with replyTo completes with a result, due after the hold', async () => {
        const task = await running();
        expect(await owedIds(T0 + 10 + REPLY_HOLD_MS)).toEqual([]);
        await store.tasks.complete(task.id, OWNER, 'the answer', T0 + 10);
        expect(await owedIds(T0 + 10 + REPLY_HOLD_MS - 1)).toEqual([]);
        const [reply] = await owed(T0 + 10 + REPLY_HOLD_MS);
        expect(reply?.attempts).toBe(0);
        expect(reply?.task).toMatchObject<Partial<Task>>({
          id: task.id,
          status: 'completed',
          result: 'the answer',
          replyTo: ADDRESS,
        });
      });

      it('owes nothing without replyTo, or for a null or empty result', async () => {
        const silent = await running({ replyTo: false });
        await store.tasks.complete(silent.id, OWNER, 'done', T0);
        const nothing = await running();
        await store.tasks.complete(nothing.id, OWNER, null, T0);
        const empty = await running();
        await store.tasks.complete(empty.id, OWNER, '', T0);
        expect(await owedIds(T0 + REPLY_HOLD_MS + 1)).toEqual([]);
      });

      it('owes a reply for completions through completeAndClaim and completeMany too', async () => {
        const a = await running();
        const b = await running();
        await completeAndClaimIn(
          store.tasks,
          a.id,
          OWNER,
          { text: 'a' },
          {
            owner: OWNER,
            leaseMs: MINUTE,
            now: T0,
          },
        );
        await completeManyIn(store.tasks, [{ id: b.id, result: 'b' }], OWNER, T0);
        expect((await owedIds(T0 + REPLY_HOLD_MS)).sort()).toEqual([a.id, b.id].sort());
      });

      it('owes a reply for a task failed for good, not for an attempt that will retry', async () => {
        const task = await running({ maxAttempts: 2 });
        const error = { name: 'Error', message: 'boom' };
        await store.tasks.fail(task.id, OWNER, error, { retryAt: T0 + 1, now: T0 });
        expect(await owedIds(T0 + REPLY_HOLD_MS)).toEqual([]);
        const [again] = await store.tasks.claim({ owner: OWNER, leaseMs: MINUTE, now: T0 + 1 });
        expect(again?.id).toBe(task.id);
        await store.tasks.fail(task.id, OWNER, error, { retryAt: T0 + 2, now: T0 + 2 });
        const [reply] = await owed(T0 + 2 + REPLY_HOLD_MS);
        expect(reply?.task).toMatchObject({ id: task.id, status: 'failed', error });
      });

      it('owes a reply for a task whose last lease expired', async () => {
        const task = await running({ maxAttempts: 1 });
        const report = await store.tasks.recoverExpired(T0 + MINUTE);
        expect(report.failed).toEqual([task.id]);
        const [reply] = await owed(T0 + MINUTE + REPLY_HOLD_MS);
        expect(reply?.task).toMatchObject({ id: task.id, status: 'failed' });
        expect(reply?.task.error?.name).toBe('LeaseExpired');
      });

      it('holds a handed-out reply for the lease, then hands it out again', async () => {
        const task = await running();
        await store.tasks.complete(task.id, OWNER, 'x', T0);
        const due = T0 + REPLY_HOLD_MS;
        expect(await owedIds(due)).toEqual([task.id]);
        expect(await owedIds(due + MINUTE - 1)).toEqual([]);
        expect(await owedIds(due + MINUTE)).toEqual([task.id]);
      });

      it('settles a reply recorded sent or given up, and counts every attempt', async () => {
        const [a, b, c] = [await running(), await running(), await running()];
        for (const t of [a, b, c]) await store.tasks.complete(t!.id, OWNER, 'x', T0);
        const due = T0 + REPLY_HOLD_MS;
        expect(await owedIds(due)).toHaveLength(3);
        await store.tasks.recordReply(a!.id, { sent: true });
        await store.tasks.recordReply(b!.id, { gaveUp: true });
        await store.tasks.recordReply(c!.id, { retryAt: due + 5 * MINUTE });
        expect(await owedIds(due + 5 * MINUTE - 1)).toEqual([]);
        const again = await owed(due + 5 * MINUTE);
        expect(again.map((r) => [r.task.id, r.attempts])).toEqual([[c!.id, 1]]);
        await store.tasks.recordReply(c!.id, { sent: true });
        await store.tasks.recordReply(c!.id, { retryAt: due });
        expect(await owedIds(due + DAY)).toEqual([]);
      });

      it('counts the replies still owed, whether due, held or waiting for a retry', async () => {
        expect(await store.tasks.countOwedReplies()).toBe(0);
        const [a, b, c] = [await running(), await running(), await running()];
        for (const t of [a, b, c]) await store.tasks.complete(t!.id, OWNER, 'x', T0);
        expect(await store.tasks.countOwedReplies()).toBe(3);
        await owed(T0 + REPLY_HOLD_MS, 1);
        await store.tasks.recordReply(b!.id, { retryAt: T0 + DAY });
        expect(await store.tasks.countOwedReplies()).toBe(3);
        await store.tasks.recordReply(a!.id, { sent: true });
        await store.tasks.recordReply(c!.id, { gaveUp: true });
        expect(await store.tasks.countOwedReplies()).toBe(1);
      });

      it('hands out at most limit replies, the longest due first', async () => {
        const tasks: Task[] = [];
        for (let i = 0; i < 3; i++) {
          const t = await running();
          await store.tasks.complete(t.id, OWNER, `r${i}`, T0 + 3 - i);
          tasks.push(t);
        }
        const first = await owed(T0 + REPLY_HOLD_MS + 10, 2);
        expect(first.map((r) => r.task.id)).toEqual([tasks[2]!.id, tasks[1]!.id]);
        expect(await owedIds(T0 + REPLY_HOLD_MS + 10)).toEqual([tasks[0]!.id]);
      });

      it('ignores unknown ids and rejects a bad limit or lease', async () => {
        await expect(store.tasks.recordReply('no-such-task', { sent: true })).resolves.toBe(
          undefined,
        );
        await expect(owed(T0, 0)).rejects.toThrow(/limit/);
        await expect(store.tasks.claimReplies({ now: T0, leaseMs: 0 })).rejects.toThrow(/leaseMs/);
      });
    });
  });
}
