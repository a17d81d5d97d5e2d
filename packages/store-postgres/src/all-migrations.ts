import type { Migration } from './handle.js';
import { SESSION_STATE_MIGRATIONS } from './session-state-schema.js';
import { TASK_MIGRATIONS } from './task-schema.js';
import { TASK_STATS_MIGRATION, TASK_STATS_PER_STATEMENT_MIGRATION } from './task-stats.js';

/**
 * Every migration of the store, in the order they apply: the task tables, then sessions and
 * state, then the task counters (`task-stats.ts`). A name, once released, never changes: it is
 * what `<schema>.migrations` records.
 *
 * @example
 * ```ts
 * await applyMigrations(pool, 'agentd', ALL_MIGRATIONS);
 * ```
 */
export const ALL_MIGRATIONS: readonly Migration[] = [
  ...TASK_MIGRATIONS,
  ...SESSION_STATE_MIGRATIONS,
  TASK_STATS_MIGRATION,
  TASK_STATS_PER_STATEMENT_MIGRATION,
];
