import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../../contracts/json.js';
import type { NewTask, Task } from '../../contracts/task.js';
import { enqueueManyInto } from '../../store-kit/fast-paths.js';
import { ADDRESS, DAY, ids, rejection, T0, type TaskHelpers, type TaskSubject } from './shared.js';

/**
 * The enqueue part of the task store contract: defaults, validation, idempotency keys and
 * batches (`enqueueMany`, or core's fallback where the store lacks it).
 * Declared by {@link describeTaskStoreContract}; `store.tasks` is the current test's store.
 */
export function describeEnqueueContract(
  store: TaskSubject,
  { enqueue, claim, claimOne }: TaskHelpers,
): void {
  describe('enqueue', () => {
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
      const tasks = await Promise.all(Array.from({ length: 50 }, (_, i) => enqueue({ input: i })));
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

    it('stores a handed-over task like any other, checks included', async () => {
      // `handedOver` lets the returned task hold the caller's objects instead of copies; a store
      // may copy them anyway. Either way the task is checked, stored and read back the same.
      const input = { text: 'deploy', files: ['a.ts'], depth: { n: 1.5, no: null } };
      const metadata = { webhook: { route: 'gh', deliveryId: 'd-1', event: null } };
      const { task } = await store.tasks.enqueue({ input, metadata, handedOver: true }, T0);
      expect(task.input).toEqual(input);
      expect(task.metadata).toEqual(metadata);
      expect(await store.tasks.get(task.id)).toEqual(task);
      const [many] = await enqueueManyInto(
        store.tasks,
        [{ input: { n: 2 }, metadata: { m: [1] }, handedOver: true }],
        T0,
      );
      expect(await store.tasks.get(many!.task.id)).toEqual(many!.task);
      const bad = { at: new Date(T0) } as unknown as JsonValue;
      const error = await rejection(store.tasks.enqueue({ input: bad, handedOver: true }, T0));
      expect(error.code).toBe('E_INVALID_TASK');
      const error2 = await rejection(
        store.tasks.enqueue({ input: 'ok', metadata: { bad } as JsonObject, handedOver: true }, T0),
      );
      expect(error2.code).toBe('E_INVALID_TASK');
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

  describe('idempotency', () => {
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

  describe('enqueueMany', () => {
    it('returns results in input order', async () => {
      const results = await enqueueManyInto(
        store.tasks,
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
      expect(await enqueueManyInto(store.tasks, [], T0)).toEqual([]);
    });

    it('returns the stored task for every entry of a large batch, keys and duplicates included', async () => {
      const batch = Array.from({ length: 57 }, (_, i) => ({
        input: i,
        ...(i === 23 || i === 41 ? { idempotencyKey: 'same' } : {}),
        ...(i % 7 === 0 ? { priority: 1 as const } : {}),
      }));
      const results = await enqueueManyInto(store.tasks, batch, T0);
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
        enqueueManyInto(store.tasks, [{ input: 'ok' }, { input: 'bad', priority: 9 as 0 }], T0),
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
      const error = await rejection(enqueueManyInto(store.tasks, batch, T0));
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
      await enqueueManyInto(store.tasks, batch, T0);
      const claimed = await claim(T0, 100);
      expect(claimed.map((t) => t.input)).toEqual(batch.map((t) => t.input));
    });
  });
}
