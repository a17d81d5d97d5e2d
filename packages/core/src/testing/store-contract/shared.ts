import { afterEach, beforeEach, expect } from 'vitest';
import type { Address } from '../../contracts/channel.js';
import type { NewTask, Task, TaskStore } from '../../contracts/task.js';

// What the contract suites share: fixed times, an address, and small helpers.

export const T0 = Date.UTC(2026, 0, 1);
export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;
export const ADDRESS: Address = { channel: 'telegram', id: '-1001234567890', thread: '42' };

/** Resolves to what `promise` rejected with; fails the test if it fulfilled. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: unknown }> {
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

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const ids = (tasks: readonly Task[]) => tasks.map((t) => t.id);

/**
 * Makes the subject of a contract suite, fresh for each test: a whole store, or only the part a
 * suite needs (a `TaskStore`, a `StateStore`...).
 *
 * @example
 * ```ts
 * const create: ContractFactory<StateStore> = () => openMemoryStore().state;
 * ```
 */
export type ContractFactory<T> = () => Promise<T> | T;

/**
 * Options of the part suites (`describeTaskStoreContract` and the others).
 *
 * @example
 * ```ts
 * describeStateStoreContract('redis', () => openRedisState(url), { close: (state) => state.quit() });
 * ```
 */
export interface ContractSuiteOptions<T> {
  /** Releases what the factory made, after each test (a connection, a file). */
  close?: (subject: T) => Promise<void> | void;
}

/**
 * Declares the `beforeEach`/`afterEach` pair of a part suite and returns a holder whose `current`
 * is the test's subject.
 */
export function useSubject<T>(
  create: ContractFactory<T>,
  options: ContractSuiteOptions<T> = {},
): { current: T } {
  const holder = {} as { current: T };
  beforeEach(async () => {
    holder.current = await create();
  });
  afterEach(async () => {
    await options.close?.(holder.current);
  });
  return holder;
}

/** The task store under test, as the task suites read it (`store.tasks`). */
export interface TaskSubject {
  readonly tasks: TaskStore;
}

/** Shorthands the task suites use. */
export interface TaskHelpers {
  /** Enqueues at `now` (default T0) and returns the task. */
  enqueue(task: NewTask, now?: number): Promise<Task>;
  /** Claims up to `limit` (default 1) at `now` as `owner` (default `runner-1`), one-minute lease. */
  claim(now?: number, limit?: number, owner?: string): Promise<Task[]>;
  /** Claims one task, failing the test if there is none. */
  claimOne(now?: number, owner?: string): Promise<Task>;
}

/** The {@link TaskHelpers} over `store.tasks`. */
export function taskHelpers(store: TaskSubject): TaskHelpers {
  const claim = (now = T0, limit = 1, owner = 'runner-1') =>
    store.tasks.claim({ owner, leaseMs: MINUTE, limit, now });
  return {
    enqueue: async (task, now = T0) => (await store.tasks.enqueue(task, now)).task,
    claim,
    claimOne: async (now = T0, owner = 'runner-1') => {
      const [task] = await claim(now, 1, owner);
      if (!task) expect.fail('expected a task to be claimable');
      return task;
    },
  };
}
