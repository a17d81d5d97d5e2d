import type { TaskStore } from '../contracts/task.js';

/**
 * `store` without its optional fast paths (`enqueueMany`, `completeAndClaim`,
 * `completeTurnAndClaim`, `completeMany`, `stats`): what a new store that implements only the
 * basic operations looks like. Tests use it to prove that core's fallbacks (`enqueueManyInto`,
 * `completeAndClaimIn`, `completeTurnAndClaimIn`, `completeManyIn`, `taskStatsOf`) keep every
 * promise of the contract.
 *
 * @example
 * ```ts
 * const basic = withoutFastPaths(openMemoryStore().tasks);
 * basic.enqueueMany; // undefined
 * ```
 */
export function withoutFastPaths(store: TaskStore): TaskStore {
  const hidden = new Set<PropertyKey>([
    'enqueueMany',
    'completeAndClaim',
    'completeTurnAndClaim',
    'completeMany',
    'stats',
  ]);
  return new Proxy(store, {
    get: (target, key) => {
      if (hidden.has(key)) return undefined;
      const value = Reflect.get(target, key, target);
      // Bound, so that stores with private fields (#x) work through the proxy.
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (target, key) => !hidden.has(key) && Reflect.has(target, key),
  });
}
