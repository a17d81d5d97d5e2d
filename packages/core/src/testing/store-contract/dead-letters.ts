import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_RAW_LIMIT, REPLY_HOLD_MS, type TaskStore } from '../../contracts/task.js';
import {
  ADDRESS,
  type ContractFactory,
  type ContractSuiteOptions,
  T0,
  useSubject,
} from './shared.js';

/**
 * Declares, as vitest tests, the optional parts of a {@link TaskStore}: immediate answers in the
 * outbox (`recordAnswer`) and dead letters (`addDeadLetter` and the rest). A store that lacks
 * them passes these tests without running their checks. Each test gets a fresh task store from
 * `createTasks`.
 *
 * @example
 * ```ts
 * import { describeDeadLetterContract, openMemoryStore } from '@agentd/core/testing';
 *
 * describeDeadLetterContract('memory', () => openMemoryStore().tasks);
 * ```
 */
export function describeDeadLetterContract(
  name: string,
  createTasks: ContractFactory<TaskStore>,
  options: ContractSuiteOptions<TaskStore> = {},
): void {
  describe(`Answers and dead letters contract: ${name}`, () => {
    const subject = useSubject(createTasks, options);
    const store = () => ({ tasks: subject.current });
    const letters = () => {
      const tasks = store().tasks;
      if (!tasks.addDeadLetter) return undefined;
      return tasks as Required<TaskStore>;
    };

    describe('immediate answers (outbox)', () => {
      it('records an answer as a finished task owing its reply, once per key', async () => {
        const tasks = store().tasks;
        if (!tasks.recordAnswer) return;
        const first = await tasks.recordAnswer(
          { replyTo: ADDRESS, text: 'No sessions yet.', idempotencyKey: 'telegram:answer:1' },
          T0,
        );
        expect(first.created).toBe(true);
        expect(first.task).toMatchObject({
          type: 'answer',
          status: 'completed',
          result: 'No sessions yet.',
          replyTo: ADDRESS,
          idempotencyKey: 'telegram:answer:1',
          finishedAt: T0,
        });
        const again = await tasks.recordAnswer(
          { replyTo: ADDRESS, text: 'No sessions yet.', idempotencyKey: 'telegram:answer:1' },
          T0 + 1,
        );
        expect(again).toMatchObject({ created: false, task: { id: first.task.id } });
        // Held for the sender that sends it at once, then due for any sweep: owed exactly once.
        expect(await tasks.claimReplies({ now: T0, leaseMs: 60_000 })).toEqual([]);
        const owed = await tasks.claimReplies({ now: T0 + REPLY_HOLD_MS, leaseMs: 60_000 });
        expect(owed.map((r) => r.task.id)).toEqual([first.task.id]);
        await tasks.recordReply(first.task.id, { sent: true });
        expect(await tasks.countOwedReplies()).toBe(0);
        expect(await tasks.nextRunAt(T0)).toBeUndefined();
        expect(await tasks.claim({ owner: 'o', leaseMs: 1000, now: T0 + 1 })).toEqual([]);
      });

      it('refuses an answer without text, key or address', async () => {
        const tasks = store().tasks;
        if (!tasks.recordAnswer) return;
        const bad = [
          { replyTo: ADDRESS, text: 1, idempotencyKey: 'k' },
          { replyTo: ADDRESS, text: 'x', idempotencyKey: '' },
          { replyTo: { channel: 'telegram' }, text: 'x', idempotencyKey: 'k' },
        ];
        for (const answer of bad) {
          await expect(tasks.recordAnswer(answer as never, T0)).rejects.toMatchObject({
            code: 'E_INVALID_TASK',
          });
        }
        expect(await tasks.countOwedReplies()).toBe(0);
      });
    });

    describe('dead letters', () => {
      it('keeps a dead letter with its reason, once per key, and counts it open', async () => {
        const store = letters();
        if (!store) return;
        const letter = {
          channel: 'telegram',
          key: 'telegram:update:7',
          code: 'E_INVALID_INPUT',
          reason: 'the message has no chat',
          raw: '{"update_id":7,"__proto__":{"x":1},"text":"\u0000\u202e"}',
          replyTo: ADDRESS,
        };
        const first = await store.addDeadLetter(letter, T0);
        expect(first.created).toBe(true);
        expect(first.letter).toMatchObject({
          channel: 'telegram',
          key: 'telegram:update:7',
          code: 'E_INVALID_INPUT',
          reason: 'the message has no chat',
          raw: letter.raw,
          rawBytes: Buffer.byteLength(letter.raw),
          truncated: false,
          replyTo: ADDRESS,
          status: 'open',
          createdAt: T0,
          settledAt: null,
        });
        const again = await store.addDeadLetter({ ...letter, reason: 'again' }, T0 + 1);
        expect(again).toMatchObject({ created: false, letter: { id: first.letter.id } });
        expect(await store.countOpenDeadLetters()).toBe(1);
        expect(await store.getDeadLetter(first.letter.id)).toEqual(first.letter);
        expect(await store.getDeadLetter('dl_nope')).toBeUndefined();
        // Letters without a key are each kept.
        const { key: _, ...keyless } = letter;
        await store.addDeadLetter(keyless, T0 + 2);
        await store.addDeadLetter(keyless, T0 + 3);
        expect(await store.countOpenDeadLetters()).toBe(3);
      });

      it('cuts a huge raw input at the limit, on a character boundary, and says so', async () => {
        const store = letters();
        if (!store) return;
        const raw = `${'a'.repeat(DEAD_LETTER_RAW_LIMIT - 1)}é${'b'.repeat(2_000_000)}`;
        const { letter } = await store.addDeadLetter(
          { channel: 'api', code: 'E_INVALID_TASK', reason: 'too large', raw },
          T0,
        );
        expect(letter.truncated).toBe(true);
        expect(letter.rawBytes).toBe(Buffer.byteLength(raw));
        expect(Buffer.byteLength(letter.raw)).toBeLessThanOrEqual(DEAD_LETTER_RAW_LIMIT);
        expect(letter.raw).toBe('a'.repeat(DEAD_LETTER_RAW_LIMIT - 1));
      });

      it('lists newest first by status, settles an open letter once', async () => {
        const store = letters();
        if (!store) return;
        const add = (n: number) =>
          store.addDeadLetter(
            { channel: 'webhook', key: `k${n}`, code: 'E', reason: `r${n}`, raw: '' },
            T0 + n,
          );
        const [a, b, c] = [await add(1), await add(2), await add(3)];
        expect((await store.listDeadLetters()).map((l) => l.reason)).toEqual(['r3', 'r2', 'r1']);
        const settled = await store.settleDeadLetter(b.letter.id, 'discarded', T0 + 10);
        expect(settled).toMatchObject({ status: 'discarded', settledAt: T0 + 10 });
        expect(await store.settleDeadLetter(b.letter.id, 'retried', T0 + 11)).toBeUndefined();
        expect(await store.settleDeadLetter('dl_999999', 'discarded', T0)).toBeUndefined();
        expect((await store.listDeadLetters({ status: 'open' })).map((l) => l.id)).toEqual([
          c.letter.id,
          a.letter.id,
        ]);
        expect(
          (await store.listDeadLetters({ status: ['discarded'], limit: 5 })).map((l) => l.id),
        ).toEqual([b.letter.id]);
        expect(await store.listDeadLetters({ limit: 1 })).toHaveLength(1);
        expect(await store.countOpenDeadLetters()).toBe(2);
      });

      it('refuses a dead letter without channel, code or reason', async () => {
        const store = letters();
        if (!store) return;
        for (const bad of [
          { channel: '', code: 'E', reason: 'r', raw: '' },
          { channel: 'c', code: 'E', reason: 'r', raw: 5 },
          { channel: 'c', reason: 'r', raw: '' },
        ]) {
          await expect(store.addDeadLetter(bad as never, T0)).rejects.toThrow();
        }
        expect(await store.countOpenDeadLetters()).toBe(0);
      });
    });
  });
}
