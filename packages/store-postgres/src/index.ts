/**
 * @module @agentd/store-postgres
 * agentd's PostgreSQL store: tasks, sessions and state in one database that several hosts share.
 * Use the {@link postgres} plugin in a host config, or {@link openPostgresStore} directly.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@agentd/core';
 * import { postgres } from '@agentd/store-postgres';
 *
 * export default defineConfig({ plugins: [postgres({ url: '${DATABASE_URL}' })] });
 * ```
 */

export { ALL_MIGRATIONS } from './all-migrations.js';
export { POSTGRES_ERROR_CODES } from './error-codes.js';
export type { Migration, PostgresHandle } from './handle.js';
export { applyMigrations } from './migrations.js';
export { type PostgresPluginOptions, postgresOptionsSchema } from './options.js';
export { postgres } from './plugin.js';
export { SESSION_STATE_MIGRATIONS } from './session-state-schema.js';
export { PostgresSessionStore } from './session-store.js';
export { PostgresStateStore, type PostgresStateStoreOptions } from './state-store.js';
export {
  openPostgresStore,
  type PostgresConnectionOptions,
  type PostgresStore,
  type PostgresStoreOptions,
} from './store.js';
export type { WorkListenerOptions, WorkSubscription } from './task-notify.js';
export { TASK_MIGRATIONS } from './task-schema.js';
export { PostgresTaskStore } from './task-store.js';

import { postgres } from './plugin.js';

/**
 * The plugin factory, as the default export: what a JSON config loads for
 * `["@agentd/store-postgres", { "url": "${DATABASE_URL}" }]`.
 */
export default postgres;
