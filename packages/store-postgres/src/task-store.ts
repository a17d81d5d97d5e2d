import type { TaskStore } from '@agentd/core';
import type { PostgresHandle } from './handle.js';

// TEMPORARY: replaced by the task store branch (k16/pg-tasks), which builds the real
// PostgresTaskStore. Until then every call rejects, so the rest of the package builds and the
// plugin starts; tests that need tasks skip (see `hasTaskStore` in plugin.test.ts).
class TaskStoreNotBuilt {
  constructor(_handle: PostgresHandle) {
    // biome-ignore lint/correctness/noConstructorReturn: a temporary placeholder, see above.
    return new Proxy(this, {
      get: (_target, property) =>
        property === 'then'
          ? undefined
          : () =>
              Promise.reject(new Error('the PostgreSQL task store is not built in this branch')),
    });
  }
}

export const PostgresTaskStore = TaskStoreNotBuilt as unknown as new (
  handle: PostgresHandle,
) => TaskStore;
