/**
 * @module @agentd/store-sqlite
 * agentd's embedded default store: tasks, sessions and plugin state in one SQLite file, shared
 * safely by several processes (WAL, IMMEDIATE transactions, busy timeout). Use the {@link sqlite}
 * plugin in a host config, or {@link openSqliteStore} directly.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { sqlite } from '@agentd/store-sqlite';
 *
 * export default defineConfig({ plugins: [sqlite()] }); // <dataDir>/agentd.db
 * ```
 */

// Core's task rules, re-exported where they were before they moved to @agentd/core.
export { DEFAULT_MAX_PAYLOAD_BYTES, MAX_RUN_AT } from '@agentd/core';
export type { BackupInfo, IntegrityResult, RecoveryOutcome } from './backup.js';
export {
  checkIntegrity,
  createBackup,
  listBackups,
  recoverCorruptDatabase,
  replaceDatabaseFile,
  UnrecoverableDatabaseError,
} from './backup.js';
export type { DatabaseOptions } from './database.js';
export { openDatabase } from './database.js';
export { SQLITE_ERROR_CODES } from './error-codes.js';
export type { Migration } from './migrations.js';
export { applyMigrations, MIGRATIONS } from './migrations.js';
export type { SqlitePluginOptions } from './plugin.js';
export { sqlite, sqliteOptionsSchema } from './plugin.js';
export { DEFAULT_IDLE_TIMEOUT_MS, SqliteSessionStore } from './session-store.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export { openSqliteStore, SqliteStore } from './sqlite-store.js';
export type { StateStoreOptions } from './state-store.js';
export { SqliteStateStore } from './state-store.js';
export type { TaskStoreOptions } from './task-store.js';
export { SqliteTaskStore } from './task-store.js';

import { sqlite } from './plugin.js';

/**
 * The plugin factory, as the default export: what a JSON config loads for
 * `"@agentd/store-sqlite"` or `["@agentd/store-sqlite", { "path": "./data/agentd.db" }]`.
 */
export default sqlite;
