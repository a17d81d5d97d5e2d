import type { StandardSchemaV1 } from '@standard-schema/spec';
import { HealthRegistryToken } from '../contracts/health.js';
import { SessionStoreToken } from '../contracts/session.js';
import { StateStoreToken } from '../contracts/state.js';
import { type Store, StoreToken } from '../contracts/store.js';
import type { ImportReport, StoreRecord } from '../contracts/store-records.js';
import { TaskStoreToken } from '../contracts/task.js';
import type { Plugin } from '../kernel/plugin.js';
import { exportRecordsThrough } from '../store-kit/records.js';
import { MemorySessionStore } from './memory-store/session-store.js';
import { MemoryStateStore } from './memory-store/state-store.js';
import { MemoryTaskStore } from './memory-store/task-store.js';

export { MemorySessionStore } from './memory-store/session-store.js';
export { MemoryStateStore } from './memory-store/state-store.js';
export { MemoryTaskStore } from './memory-store/task-store.js';

/**
 * Options of {@link openMemoryStore}.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * openMemoryStore({ now: () => clock.now(), maxPayloadBytes: 64 * 1024 });
 * ```
 */
export interface MemoryStoreOptions {
  /** Largest accepted task `input` plus `metadata`, as UTF-8 JSON (default 1 MiB). */
  maxPayloadBytes?: number;
  /** Source of time for state TTLs (default `Date.now`); the plugin passes the host's clock. */
  now?: () => number;
}

/**
 * A complete {@link Store} held in this process's memory: {@link MemoryTaskStore},
 * {@link MemorySessionStore} and {@link MemoryStateStore}. A class, not a plain object, so a
 * host's config handling passes it through as it is (see {@link MemoryStorePluginOptions.store}).
 * Open one with {@link openMemoryStore}.
 */
export class MemoryStore implements Store {
  readonly tasks: MemoryTaskStore;
  readonly sessions: MemorySessionStore;
  readonly state: MemoryStateStore;
  readonly description = 'memory (not durable: for tests and examples)';

  constructor(options: MemoryStoreOptions = {}) {
    this.sessions = new MemorySessionStore();
    this.tasks = new MemoryTaskStore({
      sessions: this.sessions,
      ...(options.maxPayloadBytes !== undefined && { maxPayloadBytes: options.maxPayloadBytes }),
    });
    this.state = new MemoryStateStore(options.now);
  }

  /** Every record out, in batches, for `agentd store copy` (see `StoreRecords`). */
  exportRecords(options?: { batchSize?: number }): AsyncIterable<StoreRecord[]> {
    return exportRecordsThrough(
      this,
      {
        owedReplies: async () => this.tasks.owedReplies(),
        stateRecords: async () => this.state.entries(),
      },
      options,
    );
  }

  /** Records in, as they were, with new task ids (see `StoreRecords`). */
  async importRecords(records: readonly StoreRecord[]): Promise<ImportReport> {
    const taskIds = new Map<string, string>();
    for (const r of records) {
      if (r.kind === 'task') taskIds.set(r.task.id, this.tasks.importTask(r.task, r.reply));
      else if (r.kind === 'deadLetter') this.tasks.importDeadLetter(r.letter);
      else if (r.kind === 'session') this.sessions.importSession(r.session, r.history);
      else this.state.importEntry(r);
    }
    return { taskIds };
  }

  /** Nothing to release: the data lives as long as something refers to the store. */
  async close(): Promise<void> {}
}

/**
 * Opens an empty in-memory store, **for tests and examples only**: nothing is written anywhere,
 * so everything is gone when the process ends, and two processes never share it. It passes the
 * same contract suite as `@agentd/store-sqlite` (priority and run-at order, one running task per
 * session key, leases and their recovery, idempotency keys, pruning, the reply outbox, dead
 * letters), and checks tasks with the same core rules, so a test written against it behaves the
 * same on SQLite. Use it directly, or through the {@link memoryStore} plugin in a host.
 *
 * @example
 * ```ts
 * const store = openMemoryStore();
 * const { task } = await store.tasks.enqueue({ input: 'hello' }, Date.now());
 * const [claimed] = await store.tasks.claim({ owner: 'me', leaseMs: 30_000, now: Date.now() });
 * ```
 */
export function openMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}

/**
 * Options of the {@link memoryStore} plugin.
 *
 * @example
 * ```ts
 * const shared = openMemoryStore();
 * memoryStore({ store: shared }); // two hosts in one test share its tasks
 * ```
 */
export interface MemoryStorePluginOptions {
  /**
   * The store to provide, e.g. one opened by the test so that it can look inside, or share it
   * between hosts (a host restarted in the same test finds its tasks again). Default: a new,
   * empty one per host.
   */
  store?: MemoryStore;
  /** Largest accepted task payload for a new store (default 1 MiB); ignored with `store`. */
  maxPayloadBytes?: number;
}

type Issue = StandardSchemaV1.Issue;

const memoryStoreOptionsSchema: StandardSchemaV1<unknown, MemoryStorePluginOptions> = {
  '~standard': {
    version: 1,
    vendor: 'agentd',
    validate(value) {
      if (value === undefined) return { value: {} };
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return { issues: [{ message: 'options must be an object' }] };
      }
      const { store, maxPayloadBytes, ...rest } = value as Record<string, unknown>;
      const issues: Issue[] = Object.keys(rest).map((key) => ({
        message: `unknown option "${key}" (known: store, maxPayloadBytes)`,
        path: [key],
      }));
      if (store !== undefined && !(store instanceof MemoryStore)) {
        issues.push({ message: 'store must be a store from openMemoryStore()', path: ['store'] });
      }
      if (
        maxPayloadBytes !== undefined &&
        (!Number.isInteger(maxPayloadBytes) || (maxPayloadBytes as number) < 1)
      ) {
        issues.push({
          message: 'maxPayloadBytes must be a positive integer',
          path: ['maxPayloadBytes'],
        });
      }
      return issues.length > 0 ? { issues } : { value: value as MemoryStorePluginOptions };
    },
  },
};

/**
 * A store plugin that keeps everything in memory, **for tests and examples; not durable**: a
 * host restart loses every task, session and state value, and other processes (the CLI, a
 * second host) cannot see it. It provides what `sqlite()` provides ({@link StoreToken} and its
 * parts {@link TaskStoreToken}, {@link SessionStoreToken}, {@link StateStoreToken}, with the
 * reply outbox, immediate answers and dead letters) and a `store` health check. Unlike
 * `sqlite()` it needs no file and no `start`: the store is ready in `register`.
 *
 * @example
 * ```ts
 * import { createHost, agent } from '@agentd/core';
 * import { memoryStore } from '@agentd/core/testing';
 *
 * const host = createHost({
 *   plugins: [memoryStore()],
 *   agents: [agent('echo', (input) => input)],
 * });
 * await host.start();
 * ```
 */
export function memoryStore(
  options: MemoryStorePluginOptions = {},
): Plugin<MemoryStorePluginOptions> {
  return {
    name: 'store-memory',
    provides: [StoreToken, TaskStoreToken, SessionStoreToken, StateStoreToken],
    optionsSchema: memoryStoreOptionsSchema,
    options,
    register(ctx) {
      const store =
        ctx.options.store ??
        openMemoryStore({
          now: () => ctx.clock.now(),
          ...(ctx.options.maxPayloadBytes !== undefined && {
            maxPayloadBytes: ctx.options.maxPayloadBytes,
          }),
        });
      ctx.provide(StoreToken, store);
      ctx.provide(TaskStoreToken, store.tasks);
      ctx.provide(SessionStoreToken, store.sessions);
      ctx.provide(StateStoreToken, store.state);
      ctx.resolve(HealthRegistryToken).add({
        name: 'store',
        check: () => ({ status: 'pass', output: store.description }),
      });
    },
  };
}
