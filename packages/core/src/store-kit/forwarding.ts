import type { JsonValue } from '../contracts/json.js';
import type { SessionStore } from '../contracts/session.js';
import type { StateStore } from '../contracts/state.js';
import type { TaskStore } from '../contracts/task.js';
import { AgentdError } from '../kernel/errors.js';
import {
  completeAndClaimIn,
  completeManyIn,
  completeTurnAndClaimIn,
  enqueueManyInto,
  recordTurnIn,
} from './fast-paths.js';
import { taskStatsOf } from './task-stats.js';

/** The parts a store plugin provides as services. */
export interface StoreParts {
  tasks: TaskStore;
  sessions: SessionStore;
  state: StateStore;
}

/**
 * The optional {@link TaskStore} methods besides the fast paths, which a store either has or
 * leaves out: the facade offers only those its store has, because callers test for them
 * (`if (store.recordAnswer)`, `store.onWork?.(...)`) and choose another way when absent.
 */
export type OptionalTaskStoreMethod =
  | 'recordAnswer'
  | 'addDeadLetter'
  | 'listDeadLetters'
  | 'getDeadLetter'
  | 'settleDeadLetter'
  | 'countOpenDeadLetters'
  | 'onWork'
  | 'pageTasks';

/**
 * Services a store plugin can provide in `register`, before its database opens in `start`:
 * every call goes to the parts `open()` returns at that moment, so a store that is not open
 * (yet, or any more) answers with the rejected promise `open()`'s error makes, like any other
 * store failure, and a store reopened in place is picked up. The fast paths go through core's
 * fallbacks, so they work whether or not the store has them.
 *
 * Written once here because every store plugin needs exactly this: `sqlite()` and `postgres()`
 * each had a copy.
 *
 * @param open the open store's parts, or a throw saying why there are none.
 * @param optional the optional task methods this store implements.
 *
 * @example
 * ```ts
 * let store: MyStore | undefined;
 * const open = () => {
 *   if (!store) throw new AgentdError('E_STORE_NOT_OPEN', 'my-store opens in start()');
 *   return store;
 * };
 * const { tasks, sessions, state } = forwardingStoreParts(open, ['recordAnswer']);
 * ctx.provide(TaskStoreToken, tasks);
 * ```
 */
export function forwardingStoreParts(
  open: () => StoreParts,
  optional: readonly OptionalTaskStoreMethod[] = [],
): StoreParts {
  const t = () => open().tasks;
  const tasks: TaskStore = {
    enqueue: async (task, now) => t().enqueue(task, now),
    enqueueMany: async (list, now) => enqueueManyInto(t(), list, now),
    claim: async (request) => t().claim(request),
    renewLease: async (id, owner, expiresAt) => t().renewLease(id, owner, expiresAt),
    complete: async (id, owner, result, now) => t().complete(id, owner, result, now),
    completeAndClaim: async (id, owner, result, claim) =>
      completeAndClaimIn(t(), id, owner, result, claim),
    completeTurnAndClaim: async (id, owner, result, turn, claim) =>
      completeTurnAndClaimIn(t(), open().sessions, id, owner, result, turn, claim),
    completeMany: async (items, owner, now) => completeManyIn(t(), items, owner, now),
    fail: async (id, owner, error, options) => t().fail(id, owner, error, options),
    cancel: async (id, now) => t().cancel(id, now),
    hold: async (id) => t().hold(id),
    release: async (id) => t().release(id),
    get: async (id) => t().get(id),
    findByIdempotencyKey: async (key) => t().findByIdempotencyKey(key),
    list: async (query) => t().list(query),
    counts: async () => t().counts(),
    stats: async (now) => taskStatsOf(t(), now),
    recoverExpired: async (now, options) => t().recoverExpired(now, options),
    recordLeaseProcess: async (id, owner, process) => t().recordLeaseProcess(id, owner, process),
    listLeases: async () => t().listLeases(),
    nextRunAt: async (now) => t().nextRunAt(now),
    prune: async (options) => t().prune(options),
    claimReplies: async (request) => t().claimReplies(request),
    countOwedReplies: async () => t().countOwedReplies(),
    recordReply: async (id, outcome) => t().recordReply(id, outcome),
  };
  for (const name of optional) {
    (tasks as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const target = t();
      const method = target[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (typeof method !== 'function') {
        throw new AgentdError('E_STORE', `this task store has no ${name}()`);
      }
      return method.apply(target, args);
    };
  }
  const s = () => open().sessions;
  const sessions: SessionStore = {
    create: async (session, now) => s().create(session, now),
    get: async (id) => s().get(id),
    findActive: async (userKey) => s().findActive(userKey),
    findByName: async (userKey, name) => s().findByName(userKey, name),
    listByUser: async (userKey, options) => s().listByUser(userKey, options),
    listByStatus: async (statuses) => s().listByStatus(statuses),
    update: async (id, patch) => s().update(id, patch),
    activate: async (userKey, id) => s().activate(userKey, id),
    appendHistory: async (id, entry) => s().appendHistory(id, entry),
    recordTurn: async (id, entries, at) => recordTurnIn(s(), id, entries, at),
    history: async (id, limit) => s().history(id, limit),
  };
  const st = () => open().state;
  const state: StateStore = {
    get: async <T extends JsonValue>(namespace: string, key: string) => st().get<T>(namespace, key),
    set: async (namespace, key, value, options) => st().set(namespace, key, value, options),
    delete: async (namespace, key) => st().delete(namespace, key),
    compareAndSet: async (namespace, key, expected, next) =>
      st().compareAndSet(namespace, key, expected, next),
    list: async (namespace, prefix) => st().list(namespace, prefix),
  };
  return { tasks, sessions, state };
}
