import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Address } from '../contracts/channel.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';
import type { NewSession } from '../contracts/session.js';
import type { Store } from '../contracts/store.js';
import type { NewTask, Task, TaskStatus } from '../contracts/task.js';
import { describeDeadLetterContract } from './store-contract-dead-letters.js';
import { describeReplyContract } from './store-contract-replies.js';

/**
 * Options of {@link describeStoreContract}.
 *
 * @example
 * ```ts
 * const shared = await openSharedStore();
 * describeStoreContract('shared', async () => { await shared.reset(); return shared; }, { close: false });
 * ```
 */
export interface StoreContractOptions {
  /**
   * Close each store after its test (default true). Pass false when `createStore` hands out
   * stores whose lifetime the caller manages.
   */
  close?: boolean;
}

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const ADDRESS: Address = { channel: 'telegram', id: '-1001234567890', thread: '42' };

/** Resolves to what `promise` rejected with; fails the test if it fulfilled. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: unknown }> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) {
    expect.fail(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  }
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error & { code?: unknown };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ids = (tasks: readonly Task[]) => tasks.map((t) => t.id);

/**
 * Declares the behaviour every {@link Store} must have, as vitest tests: task queueing and
 * claiming (ordering, run-at, sessions, leases, retries, recovery, idempotency, validation),
 * sessions and their history, and namespaced state. Each test gets a fresh store from
 * `createStore`. A store package runs it once from its own test file.
 *
 * @example
 * ```ts
 * // sqlite-store.test.ts
 * import { describeStoreContract } from '@agentd/core/testing';
 * import { openSqliteStore } from '@agentd/store-sqlite';
 *
 * describeStoreContract('sqlite', () => openSqliteStore({ path: freshTempFile() }));
 * ```
 */
export function describeStoreContract(
  name: string,
  createStore: () => Promise<Store> | Store,
  options: StoreContractOptions = {},
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await createStore();
    });

    afterEach(async () => {
      if (options.close !== false) await store.close();
    });

    const enqueue = async (task: NewTask, now = T0) => (await store.tasks.enqueue(task, now)).task;
    const claim = (now = T0, limit = 1, owner = 'runner-1') =>
      store.tasks.claim({ owner, leaseMs: MINUTE, limit, now });
    const claimOne = async (now = T0, owner = 'runner-1') => {
      const [task] = await claim(now, 1, owner);
      if (!task) expect.fail('expected a task to be claimable');
      return task;
    };

    describe('store', () => {
      it('describes itself and closes idempotently', async () => {
        expect(typeof store.description).toBe('string');
        expect(store.description.length).toBeGreaterThan(0);
        if (options.close !== false) {
          await store.close();
          await expect(store.close()).resolves.toBeUndefined();
        }
      });
    });

    describe('tasks: enqueue', () => {
      it('applies defaults and returns the stored task', async () => {
        const { task, created } = await store.tasks.enqueue({ input: 'hello' }, T0);
        expect(created).toBe(true);
        expect(task).toEqual({
          id: expect.any(String),
          input: 'hello',
          description: 'hello',
          type: 'manual',
          agent: null,
          priority: 2,
          status: 'pending',
          attempts: 0,
          maxAttempts: 3,
          createdAt: T0,
          runAt: T0,
          startedAt: null,
          finishedAt: null,
          result: null,
          error: null,
          idempotencyKey: null,
          sessionKey: null,
          replyTo: null,
          metadata: {},
          leaseOwner: null,
          leaseExpiresAt: null,
        });
        expect(task.id.length).toBeGreaterThan(0);
        expect(await store.tasks.get(task.id)).toEqual(task);
      });

      it('gives every task a distinct id', async () => {
        const tasks = await Promise.all(
          Array.from({ length: 50 }, (_, i) => enqueue({ input: i })),
        );
        expect(new Set(ids(tasks)).size).toBe(50);
      });

      it('round-trips every field', async () => {
        const input = {
          text: 'deploy',
          files: ['a.ts', 'b.ts'],
          depth: { n: 1.5, ok: true, no: null },
        };
        const metadata = { source: 'webhook', delivery: { id: 'd-1', attempt: 2 } };
        const task = await enqueue({
          input,
          description: 'Deploy the site',
          type: 'webhook',
          agent: 'claude',
          priority: 1,
          runAt: T0 - 5,
          maxAttempts: 5,
          idempotencyKey: 'github:delivery-1',
          sessionKey: 'telegram:42',
          replyTo: ADDRESS,
          metadata,
        });
        const expected: Task = {
          id: task.id,
          input,
          description: 'Deploy the site',
          type: 'webhook',
          agent: 'claude',
          priority: 1,
          status: 'pending',
          attempts: 0,
          maxAttempts: 5,
          createdAt: T0,
          runAt: T0 - 5,
          startedAt: null,
          finishedAt: null,
          result: null,
          error: null,
          idempotencyKey: 'github:delivery-1',
          sessionKey: 'telegram:42',
          replyTo: ADDRESS,
          metadata,
          leaseOwner: null,
          leaseExpiresAt: null,
        };
        expect(task).toEqual(expected);
        expect(await store.tasks.get(task.id)).toEqual(expected);

        const running = await claimOne(T0 + 10);
        expect(running.id).toBe(task.id);
        const failed = await store.tasks.fail(
          task.id,
          'runner-1',
          { name: 'rate_limit', message: '429 from upstream' },
          { retryAt: T0 + 100, now: T0 + 20 },
        );
        expect(failed?.error).toEqual({ name: 'rate_limit', message: '429 from upstream' });
        await claimOne(T0 + 100);
        const result: JsonValue = {
          output: 'done',
          usage: { tokens: 1234, cost: 0.05 },
          parts: [1, 'two', null],
        };
        expect(await store.tasks.complete(task.id, 'runner-1', result, T0 + 200)).toBe(true);
        expect(await store.tasks.get(task.id)).toEqual({
          ...expected,
          status: 'completed',
          attempts: 2,
          runAt: T0 + 100,
          startedAt: T0 + 100,
          finishedAt: T0 + 200,
          result,
          error: { name: 'rate_limit', message: '429 from upstream' },
        });
        const [listed] = await store.tasks.list();
        expect(listed).toEqual(await store.tasks.get(task.id));
      });

      it('defaults the description to a text input, cut to 200 characters, else to the type', async () => {
        const long = 'x'.repeat(500);
        const a = await enqueue({ input: long });
        expect(a.description.length).toBeLessThanOrEqual(200);
        expect(a.description.startsWith('x'.repeat(150))).toBe(true);
        expect(a.input).toBe(long);
        const b = await enqueue({ input: { event: 'push' }, type: 'webhook' });
        expect(b.description).toBe('webhook');
        const c = await enqueue({ input: 'text', description: 'given' });
        expect(c.description).toBe('given');
      });

      it('accepts a description without an input, and rejects a task with neither', async () => {
        const task = await enqueue({ description: 'check the disks' });
        expect(task.input).toBeNull();
        expect(task.description).toBe('check the disks');
        const error = await rejection(store.tasks.enqueue({}, T0));
        expect(error.code).toBe('E_INVALID_TASK');
      });

      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      const notJson: [string, unknown][] = [
        ['a function', () => 1],
        ['a BigInt', 10n],
        ['NaN', Number.NaN],
        ['Infinity', Number.POSITIVE_INFINITY],
        ['-Infinity', Number.NEGATIVE_INFINITY],
        ['a symbol', Symbol('s')],
        ['a Date', new Date(T0)],
        ['a Map', new Map([['a', 1]])],
        ['undefined in an array', [1, undefined]],
        ['a cycle', cyclic],
      ];
      for (const [label, value] of notJson) {
        it(`rejects ${label} in input or metadata with E_INVALID_TASK`, async () => {
          const input = { nested: { list: [0, value] } } as unknown as JsonValue;
          const error = await rejection(store.tasks.enqueue({ input }, T0));
          expect(error.code).toBe('E_INVALID_TASK');
          expect(error.message).toMatch(/input/);
          const metadata = { bad: value } as unknown as JsonObject;
          const error2 = await rejection(store.tasks.enqueue({ input: 'ok', metadata }, T0));
          expect(error2.code).toBe('E_INVALID_TASK');
          expect((await store.tasks.counts()).pending).toBe(0);
        });
      }

      it('rejects a payload over 1 MiB, naming its size and the cap', async () => {
        const input = 'é'.repeat(600 * 1024); // 1.2 MB as UTF-8, though 600 Ki characters
        const error = await rejection(store.tasks.enqueue({ input }, T0));
        expect(error.code).toBe('E_INVALID_TASK');
        expect(error.message).toMatch(/1228802|1\.2 MiB/);
        expect(error.message).toMatch(/1048576|1(\.0)? MiB/);
        const near = 'a'.repeat(900 * 1024);
        const task = await enqueue({ input: near });
        expect((await store.tasks.get(task.id))?.input).toBe(near);
      });

      it('keeps __proto__ and constructor keys as plain data without polluting prototypes', async () => {
        const input = JSON.parse(
          '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"a":1}',
        ) as JsonObject;
        const metadata = JSON.parse('{"__proto__":{"polluted":true}}') as JsonObject;
        const task = await enqueue({ input, metadata });
        const stored = await store.tasks.get(task.id);
        for (const t of [task, stored]) {
          const value = t?.input as JsonObject;
          expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
          expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({
            polluted: true,
          });
          expect(Object.hasOwn(value, 'constructor')).toBe(true);
          expect(value.a).toBe(1);
          expect(Object.getOwnPropertyDescriptor(t?.metadata, '__proto__')?.value).toEqual({
            polluted: true,
          });
        }
        expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });

      it('keeps NUL characters in strings', async () => {
        const input = { text: 'a\u0000b', 'k\u0000ey': ['\u0000'] };
        const task = await enqueue({
          input,
          description: 'd\u0000e',
          idempotencyKey: 'idem\u0000key',
          sessionKey: 'sess\u0000ion',
          metadata: { note: '\u0000end' },
        });
        const stored = await store.tasks.get(task.id);
        expect(stored?.input).toEqual(input);
        expect(stored?.description).toBe('d\u0000e');
        expect(stored?.sessionKey).toBe('sess\u0000ion');
        expect(stored?.metadata).toEqual({ note: '\u0000end' });
        expect((await store.tasks.findByIdempotencyKey('idem\u0000key'))?.id).toBe(task.id);
        expect(await store.tasks.findByIdempotencyKey('idem')).toBeUndefined();
      });

      it('accepts priorities 0 to 3 and rejects anything else', async () => {
        for (const priority of [0, 1, 2, 3] as const) {
          expect((await enqueue({ input: 'p', priority })).priority).toBe(priority);
        }
        for (const priority of [-1, 4, 1.5, Number.NaN, '1']) {
          const task = { input: 'p', priority } as unknown as NewTask;
          expect((await rejection(store.tasks.enqueue(task, T0))).code).toBe('E_INVALID_TASK');
        }
      });

      it('accepts maxAttempts of at least 1 and rejects anything else', async () => {
        expect((await enqueue({ input: 'm', maxAttempts: 1 })).maxAttempts).toBe(1);
        for (const maxAttempts of [0, -1, 1.5, Number.NaN]) {
          const error = await rejection(store.tasks.enqueue({ input: 'm', maxAttempts }, T0));
          expect(error.code).toBe('E_INVALID_TASK');
        }
      });

      it('runs a task with a far-past runAt now, and rejects non-finite or after-9999 times', async () => {
        const old = await enqueue({ input: 'old', runAt: T0 - 60 * 365 * DAY });
        const epoch = await enqueue({ input: 'epoch', runAt: 0 });
        expect(ids(await claim(T0, 10))).toEqual([old.id, epoch.id]);
        expect((await enqueue({ input: 'late', runAt: Date.UTC(9999, 11, 31) })).runAt).toBe(
          Date.UTC(9999, 11, 31),
        );
        for (const runAt of [Number.NaN, Number.POSITIVE_INFINITY, Date.UTC(10000, 0, 1)]) {
          const error = await rejection(store.tasks.enqueue({ input: 'x', runAt }, T0));
          expect(error.code).toBe('E_INVALID_TASK');
        }
      });
    });

    describe('tasks: idempotency', () => {
      it('returns the existing task for a repeated key', async () => {
        const first = await store.tasks.enqueue({ input: 'one', idempotencyKey: 'k' }, T0);
        const second = await store.tasks.enqueue({ input: 'two', idempotencyKey: 'k' }, T0 + 1);
        expect(first.created).toBe(true);
        expect(second.created).toBe(false);
        expect(second.task).toEqual(first.task);
        expect((await store.tasks.counts()).pending).toBe(1);
        const other = await store.tasks.enqueue({ input: 'three', idempotencyKey: 'k2' }, T0);
        expect(other.created).toBe(true);
        expect(other.task.id).not.toBe(first.task.id);
      });

      it('still returns the task after it completed', async () => {
        const { task } = await store.tasks.enqueue({ input: 'once', idempotencyKey: 'k' }, T0);
        await claimOne();
        await store.tasks.complete(task.id, 'runner-1', 'ok', T0 + 1);
        const again = await store.tasks.enqueue({ input: 'once', idempotencyKey: 'k' }, T0 + 2);
        expect(again.created).toBe(false);
        expect(again.task.id).toBe(task.id);
        expect(again.task.status).toBe('completed');
        expect(await claim(T0 + 3)).toEqual([]);
      });

      it('finds a task by its key', async () => {
        const task = await enqueue({ input: 'x', idempotencyKey: 'find-me' });
        expect(await store.tasks.findByIdempotencyKey('find-me')).toEqual(task);
        expect(await store.tasks.findByIdempotencyKey('missing')).toBeUndefined();
      });

      it('creates exactly one task when the same key is enqueued concurrently', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.tasks.enqueue({ input: i, idempotencyKey: 'race' }, T0),
          ),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
      });
    });

    describe('tasks: enqueueMany', () => {
      it('returns results in input order', async () => {
        const results = await store.tasks.enqueueMany(
          [
            { input: 'a' },
            { input: 'b', idempotencyKey: 'dup' },
            { input: 'c', idempotencyKey: 'dup' },
            { input: 'd' },
          ],
          T0,
        );
        expect(results.map((r) => r.task.input)).toEqual(['a', 'b', 'b', 'd']);
        expect(results.map((r) => r.created)).toEqual([true, true, false, true]);
        expect(results[2]?.task.id).toBe(results[1]?.task.id);
        for (const r of results) expect(await store.tasks.get(r.task.id)).toEqual(r.task);
        expect(await store.tasks.enqueueMany([], T0)).toEqual([]);
      });

      it('returns the stored task for every entry of a large batch, keys and duplicates included', async () => {
        const batch = Array.from({ length: 57 }, (_, i) => ({
          input: i,
          ...(i === 23 || i === 41 ? { idempotencyKey: 'same' } : {}),
          ...(i % 7 === 0 ? { priority: 1 as const } : {}),
        }));
        const results = await store.tasks.enqueueMany(batch, T0);
        expect(results.map((r) => r.created)).toEqual(batch.map((_, i) => i !== 41));
        expect(results[41]?.task.id).toBe(results[23]?.task.id);
        expect(new Set(results.map((r) => r.task.id)).size).toBe(56);
        for (const [i, r] of results.entries()) {
          expect(r.task.input).toBe(i === 41 ? 23 : i);
          expect(await store.tasks.get(r.task.id)).toEqual(r.task);
        }
      });

      it('stores nothing when one task is invalid', async () => {
        const error = await rejection(
          store.tasks.enqueueMany([{ input: 'ok' }, { input: 'bad', priority: 9 as 0 }], T0),
        );
        expect(error.code).toBe('E_INVALID_TASK');
        expect(await store.tasks.list()).toEqual([]);
      });

      it('stores nothing when a task late in a large batch is invalid, and names its index', async () => {
        const batch: NewTask[] = Array.from({ length: 100 }, (_, i) => ({
          input: i,
          ...(i === 30 ? { idempotencyKey: 'kept-out' } : {}),
        }));
        batch[70] = { input: 70, runAt: Number.NaN };
        const error = await rejection(store.tasks.enqueueMany(batch, T0));
        expect(error.code).toBe('E_INVALID_TASK');
        expect(error.message).toMatch(/^tasks\[70\]: runAt/);
        expect(await store.tasks.list({ limit: 1000 })).toEqual([]);
        // The key of the rolled-back batch is free again.
        const again = await store.tasks.enqueue({ input: 'x', idempotencyKey: 'kept-out' }, T0);
        expect(again.created).toBe(true);
      });

      it('claims a large batch in its order', async () => {
        const batch = Array.from({ length: 70 }, (_, i) => ({
          input: i,
          ...(i % 9 === 4 ? { idempotencyKey: `key-${i}` } : {}),
        }));
        await store.tasks.enqueueMany(batch, T0);
        const claimed = await claim(T0, 100);
        expect(claimed.map((t) => t.input)).toEqual(batch.map((t) => t.input));
      });
    });

    describe('tasks: claim', () => {
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
        await store.tasks.enqueueMany(
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
        await store.tasks.enqueueMany(
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
        await store.tasks.enqueueMany(
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

    describe('tasks: leases', () => {
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
        expect(await store.tasks.complete(expired.id, 'dead-runner', null, T0 + MINUTE)).toBe(
          false,
        );
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

    describe('tasks: complete', () => {
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
          await store.tasks.enqueueMany([{ input: 'a' }, { input: 'b' }, { input: 'c' }], T0)
        ).map((r) => r.task);
        await claim(T0, 2, 'runner-1');
        await claim(T0, 1, 'runner-2');
        const held = await store.tasks.completeMany(
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
        expect(await store.tasks.completeMany([], 'runner-1', T0)).toBe(0);
      });

      it('completes one task and claims the next in one call, by the same claim rules', async () => {
        const [a, b, c] = (
          await store.tasks.enqueueMany(
            [{ input: 'a' }, { input: 'b', priority: 3 }, { input: 'c', priority: 1 }],
            T0,
          )
        ).map((r) => r.task);
        const [first] = await claim(T0, 1, 'runner-1');
        expect(first?.id).toBe(c!.id);
        const step = await store.tasks.completeAndClaim(c!.id, 'runner-1', 'rc', {
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
        const lost = await store.tasks.completeAndClaim(c!.id, 'runner-1', 'again', {
          owner: 'runner-1',
          leaseMs: 1000,
          limit: 5,
          now: T0 + 6,
        });
        expect(lost.completed).toBe(false);
        expect(lost.claimed.map((t) => t.id)).toEqual([b!.id]);
        expect(await store.tasks.get(c!.id)).toMatchObject({ result: 'rc' });
        const empty = await store.tasks.completeAndClaim(a!.id, 'runner-1', null, {
          owner: 'runner-1',
          leaseMs: 1000,
          now: T0 + 7,
        });
        expect(empty).toEqual({ completed: true, claimed: [] });
      });
    });

    describe('tasks: fail', () => {
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

    describe('tasks: cancel', () => {
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

    describeReplyContract(() => store);
    describeDeadLetterContract(() => store);

    describe('tasks: prune', () => {
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

    describe('tasks: queries', () => {
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
          running: 0,
          completed: 0,
          failed: 0,
          cancelled: 0,
        });
        const [a, b, , d] = (
          await store.tasks.enqueueMany(
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
          running: 1,
          completed: 1,
          failed: 1,
          cancelled: 1,
        });
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
        await store.tasks.enqueueMany(
          Array.from({ length: 105 }, (_, i) => ({ input: i })),
          T0,
        );
        expect(await store.tasks.list()).toHaveLength(100);
        expect(await store.tasks.list({ limit: 200 })).toHaveLength(105);
        expect((await store.tasks.list({ order: 'oldest' }))[0]?.input).toBe(0);
      });
    });

    describe('sessions', () => {
      const user = 'telegram:42';
      const newSession = (extra: Partial<NewSession> = {}): NewSession => ({
        userKey: user,
        address: { channel: 'telegram', id: '42' },
        name: 'main',
        agent: 'claude',
        ...extra,
      });

      it('creates a session with defaults and reads it back', async () => {
        const session = await store.sessions.create(newSession(), T0);
        expect(session).toMatchObject({
          userKey: user,
          address: { channel: 'telegram', id: '42' },
          name: 'main',
          agent: 'claude',
          persona: null,
          active: false,
          idleTimeoutMs: 10 * MINUTE,
          lastActivityAt: T0,
          createdAt: T0,
          snapshot: null,
          resource: null,
          owner: null,
          metadata: {},
        });
        expect(typeof session.id).toBe('string');
        expect(['live', 'idle', 'suspended']).toContain(session.status);
        expect(await store.sessions.get(session.id)).toEqual(session);
        expect(await store.sessions.get('no-such-session')).toBeUndefined();
        const other = await store.sessions.create(
          newSession({
            name: 'work',
            persona: 'reviewer',
            idleTimeoutMs: 5 * MINUTE,
            metadata: { lang: 'de' },
          }),
          T0,
        );
        expect(other).toMatchObject({
          persona: 'reviewer',
          idleTimeoutMs: 5 * MINUTE,
          metadata: { lang: 'de' },
        });
        expect(other.id).not.toBe(session.id);
      });

      it('keeps exactly one active session per user', async () => {
        const a = await store.sessions.create(newSession({ name: 'a' }), T0);
        const b = await store.sessions.create(newSession({ name: 'b' }), T0 + 1);
        const theirs = await store.sessions.create(
          newSession({ userKey: 'telegram:7', name: 'x' }),
          T0,
        );
        expect(await store.sessions.findActive(user)).toBeUndefined();
        await store.sessions.activate(user, a.id);
        await store.sessions.activate('telegram:7', theirs.id);
        expect((await store.sessions.findActive(user))?.id).toBe(a.id);
        await store.sessions.activate(user, b.id);
        expect((await store.sessions.findActive(user))?.id).toBe(b.id);
        expect((await store.sessions.get(a.id))?.active).toBe(false);
        expect((await store.sessions.get(b.id))?.active).toBe(true);
        expect((await store.sessions.listByUser(user)).filter((s) => s.active)).toHaveLength(1);
        expect((await store.sessions.findActive('telegram:7'))?.id).toBe(theirs.id);
        await store.sessions.activate(user, b.id);
        expect((await store.sessions.findActive(user))?.id).toBe(b.id);
      });

      it('rejects activating an unknown or foreign session and keeps the active one', async () => {
        const a = await store.sessions.create(newSession(), T0);
        const theirs = await store.sessions.create(newSession({ userKey: 'telegram:7' }), T0);
        await store.sessions.activate(user, a.id);
        await rejection(store.sessions.activate(user, 'no-such-session'));
        await rejection(store.sessions.activate(user, theirs.id));
        expect((await store.sessions.findActive(user))?.id).toBe(a.id);
        expect((await store.sessions.get(theirs.id))?.active).toBe(false);
      });

      it('finds a session by name within its user', async () => {
        const work = await store.sessions.create(newSession({ name: 'work' }), T0);
        await store.sessions.create(newSession({ userKey: 'telegram:7', name: 'work' }), T0);
        expect((await store.sessions.findByName(user, 'work'))?.id).toBe(work.id);
        expect(await store.sessions.findByName(user, 'play')).toBeUndefined();
        expect(await store.sessions.findByName('telegram:8', 'work')).toBeUndefined();
      });

      it('lists a user’s sessions oldest first, archived ones only on request', async () => {
        const a = await store.sessions.create(newSession({ name: 'a' }), T0);
        const b = await store.sessions.create(newSession({ name: 'b' }), T0 + 1);
        const c = await store.sessions.create(newSession({ name: 'c' }), T0 + 2);
        await store.sessions.create(newSession({ userKey: 'telegram:7' }), T0);
        await store.sessions.update(b.id, { status: 'archived' });
        expect((await store.sessions.listByUser(user)).map((s) => s.id)).toEqual([a.id, c.id]);
        expect(
          (await store.sessions.listByUser(user, { includeArchived: true })).map((s) => s.id),
        ).toEqual([a.id, b.id, c.id]);
        expect(await store.sessions.listByUser('telegram:999')).toEqual([]);
      });

      it('lists sessions by status', async () => {
        const live = await store.sessions.create(newSession({ name: 'live' }), T0);
        const suspended = await store.sessions.create(newSession({ name: 'suspended' }), T0 + 1);
        const archived = await store.sessions.create(newSession({ name: 'archived' }), T0 + 2);
        await store.sessions.update(live.id, { status: 'live' });
        await store.sessions.update(suspended.id, { status: 'suspended' });
        await store.sessions.update(archived.id, { status: 'archived' });
        const found = await store.sessions.listByStatus(['live', 'suspended']);
        expect(found.map((s) => s.id).sort()).toEqual([live.id, suspended.id].sort());
        expect((await store.sessions.listByStatus(['archived'])).map((s) => s.id)).toEqual([
          archived.id,
        ]);
        expect(await store.sessions.listByStatus([])).toEqual([]);
      });

      it('updates the patched fields only', async () => {
        const session = await store.sessions.create(newSession(), T0);
        const patch = {
          status: 'suspended' as const,
          lastActivityAt: T0 + 5,
          snapshot: { conversationId: 'c-1', turns: [1, 2] },
          resource: { pid: 1234, command: 'claude' },
          owner: 'host-a:4242:81237:0badc0de@box',
          metadata: { lang: 'en' },
          persona: 'pirate',
          idleTimeoutMs: 2 * MINUTE,
          name: 'renamed',
          agent: 'gpt',
        };
        const updated = await store.sessions.update(session.id, patch);
        // A fresh copy: the store must not keep (or hand back) the caller's objects.
        const expected = { ...session, ...structuredClone(patch) };
        expect(updated).toEqual(expected);
        expect(await store.sessions.get(session.id)).toEqual(expected);
        const cleared = await store.sessions.update(session.id, {
          snapshot: null,
          resource: null,
          persona: null,
          owner: null,
        });
        expect(cleared).toEqual({
          ...expected,
          snapshot: null,
          resource: null,
          persona: null,
          owner: null,
        });
        expect(await store.sessions.update('no-such-session', { status: 'live' })).toBeUndefined();
      });

      it('returns the newest history entries, oldest first', async () => {
        const session = await store.sessions.create(newSession(), T0);
        const other = await store.sessions.create(newSession({ name: 'other' }), T0);
        const roles = ['user', 'assistant', 'system', 'tool', 'user'] as const;
        for (const [i, role] of roles.entries()) {
          await store.sessions.appendHistory(session.id, {
            role,
            content: `turn ${i}`,
            at: T0 + i,
            ...(i === 1 ? { taskId: 'task-1' } : {}),
          });
        }
        await store.sessions.appendHistory(other.id, {
          role: 'user',
          content: 'elsewhere',
          at: T0,
        });
        expect(await store.sessions.history(session.id, 3)).toEqual([
          { role: 'system', content: 'turn 2', at: T0 + 2 },
          { role: 'tool', content: 'turn 3', at: T0 + 3 },
          { role: 'user', content: 'turn 4', at: T0 + 4 },
        ]);
        const all = await store.sessions.history(session.id, 100);
        expect(all.map((e) => e.content)).toEqual([
          'turn 0',
          'turn 1',
          'turn 2',
          'turn 3',
          'turn 4',
        ]);
        expect(all[1]).toEqual({
          role: 'assistant',
          content: 'turn 1',
          at: T0 + 1,
          taskId: 'task-1',
        });
        expect(await store.sessions.history(other.id, 10)).toEqual([
          { role: 'user', content: 'elsewhere', at: T0 },
        ]);
      });
    });

    describe('state', () => {
      it('stores and returns any JSON value', async () => {
        const values: JsonValue[] = [
          'text with \u0000 NUL and emoji 🦀',
          0,
          -1.5,
          true,
          false,
          null,
          [],
          {},
          { nested: { list: [1, 'two', null, { deep: true }] } },
        ];
        for (const [i, value] of values.entries()) {
          await store.state.set('ns', `k${i}`, value);
          expect(await store.state.get('ns', `k${i}`)).toEqual(value);
        }
        expect(await store.state.get('ns', 'missing')).toBeUndefined();
      });

      it('overwrites and deletes', async () => {
        await store.state.set('ns', 'k', 1);
        await store.state.set('ns', 'k', { v: 2 });
        expect(await store.state.get('ns', 'k')).toEqual({ v: 2 });
        expect(await store.state.delete('ns', 'k')).toBe(true);
        expect(await store.state.get('ns', 'k')).toBeUndefined();
        expect(await store.state.delete('ns', 'k')).toBe(false);
      });

      it('keeps namespaces apart', async () => {
        await store.state.set('telegram', 'offset', 10);
        await store.state.set('monitor', 'offset', 20);
        expect(await store.state.get('telegram', 'offset')).toBe(10);
        expect(await store.state.get('monitor', 'offset')).toBe(20);
        await store.state.delete('telegram', 'offset');
        expect(await store.state.get('monitor', 'offset')).toBe(20);
        expect(await store.state.list('telegram')).toEqual([]);
      });

      it('forgets a value once its TTL passes', async () => {
        await store.state.set('ns', 'short', 'soon gone', { ttlMs: 150 });
        await store.state.set('ns', 'short2', 'soon gone', { ttlMs: 150 });
        await store.state.set('ns', 'long', 'stays', { ttlMs: 60_000 });
        expect(await store.state.get('ns', 'short')).toBe('soon gone');
        await sleep(250);
        expect(await store.state.get('ns', 'short')).toBeUndefined();
        expect(await store.state.list('ns')).toEqual([{ key: 'long', value: 'stays' }]);
        // An expired value is absent to compareAndSet and delete as well.
        expect(await store.state.compareAndSet('ns', 'short', 'soon gone', 'revived')).toBe(false);
        expect(await store.state.compareAndSet('ns', 'short', undefined, 'fresh')).toBe(true);
        expect(await store.state.get('ns', 'short')).toBe('fresh');
        expect(await store.state.delete('ns', 'short2')).toBe(false);
      });

      it('compares and sets', async () => {
        expect(
          await store.state.compareAndSet('cron', 'slot', undefined, { owner: 'a', n: 1 }),
        ).toBe(true);
        expect(
          await store.state.compareAndSet('cron', 'slot', undefined, { owner: 'b', n: 1 }),
        ).toBe(false);
        expect(await store.state.compareAndSet('cron', 'slot', { owner: 'b', n: 1 }, 'x')).toBe(
          false,
        );
        expect(await store.state.get('cron', 'slot')).toEqual({ owner: 'a', n: 1 });
        // Equality is by JSON value: key order does not matter.
        expect(
          await store.state.compareAndSet(
            'cron',
            'slot',
            { n: 1, owner: 'a' },
            { owner: 'b', n: 2 },
          ),
        ).toBe(true);
        expect(await store.state.get('cron', 'slot')).toEqual({ owner: 'b', n: 2 });
        await store.state.delete('cron', 'slot');
        expect(await store.state.compareAndSet('cron', 'slot', { owner: 'b', n: 2 }, 1)).toBe(
          false,
        );
        expect(await store.state.compareAndSet('cron', 'slot', undefined, 1)).toBe(true);
        expect(await store.state.compareAndSet('cron', 'slot', 1, 2)).toBe(true);
        expect(await store.state.get('cron', 'slot')).toBe(2);
      });

      it('lets exactly one of many concurrent compareAndSet calls win', async () => {
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.state.compareAndSet('cron', 'slot', undefined, `host-${i}`),
          ),
        );
        const winners = outcomes.flatMap((won, i) => (won ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await store.state.get('cron', 'slot')).toBe(`host-${winners[0]}`);
      });

      it('lists a namespace by key prefix, in key order', async () => {
        for (const key of ['seen:2', 'seen:1', 'seen', 'offset', 'seen:10', 'seem']) {
          await store.state.set('telegram', key, key.length);
        }
        await store.state.set('other', 'seen:3', 0);
        expect(await store.state.list('telegram', 'seen:')).toEqual([
          { key: 'seen:1', value: 6 },
          { key: 'seen:10', value: 7 },
          { key: 'seen:2', value: 6 },
        ]);
        expect((await store.state.list('telegram')).map((e) => e.key)).toEqual([
          'offset',
          'seem',
          'seen',
          'seen:1',
          'seen:10',
          'seen:2',
        ]);
        expect(await store.state.list('telegram', 'zzz')).toEqual([]);
      });

      it('rejects values that are not JSON', async () => {
        await rejection(store.state.set('ns', 'k', (() => 1) as unknown as JsonValue));
        await rejection(store.state.set('ns', 'k', { n: Number.NaN }));
        expect(await store.state.get('ns', 'k')).toBeUndefined();
      });
    });
  });
}
