import type { Migration } from './handle.js';
import { SESSION_STATE_MIGRATIONS } from './session-state-schema.js';
import { TASK_HELD_MIGRATION, TASK_KEY_INDEX_MIGRATION, TASK_MIGRATIONS } from './task-schema.js';
import {
  TASK_COUNTS_IN_STATEMENTS_MIGRATION,
  TASK_INSERTS_COUNTED_IN_STATEMENTS_MIGRATION,
  TASK_STATS_MIGRATION,
  TASK_STATS_PER_STATEMENT_MIGRATION,
} from './task-stats.js';

/**
 * Every migration of the store, in the order they apply: the task tables, then sessions and
 * state, then the task counters (`task-stats.ts`), then the later task changes. A name, once released, never changes: it is
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
  TASK_HELD_MIGRATION,
  TASK_COUNTS_IN_STATEMENTS_MIGRATION,
  TASK_KEY_INDEX_MIGRATION,
  TASK_INSERTS_COUNTED_IN_STATEMENTS_MIGRATION,
];
