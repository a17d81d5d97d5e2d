import type { Migration } from './handle.js';

// TEMPORARY: replaced by the task store branch (k16/pg-tasks), which defines the task tables.
export const TASK_MIGRATIONS: Migration[] = [];
