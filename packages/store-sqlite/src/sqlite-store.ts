import { resolve } from 'node:path';
import { AgentdError, type Store } from '@agentd/core';
import type BetterSqlite3 from 'better-sqlite3';
import { BackgroundCheckpointer } from './checkpointer.js';
import { isMemoryPath, openDatabase } from './database.js';
import { SqliteSessionStore } from './session-store.js';
import { SqliteStateStore } from './state-store.js';
import { SqliteTaskStore } from './task-store.js';

/**
 * Options of {@link openSqliteStore}.
 *
 * @example
 * ```ts
 * const options: SqliteStoreOptions = { path: '/srv/agentd/agentd.db', synchronous: 'FULL' };
 * ```
 */
export interface SqliteStoreOptions {
  /** Database file (created with its directory if missing), or `:memory:`. */
  path: string;
  /** How long a writer waits for another process's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** `NORMAL` (default): fast, survives process crashes; `FULL`: also survives power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  /** Largest accepted task `input` plus `metadata`, as UTF-8 JSON (default 1 MiB). */
  maxPayloadBytes?: number;
  /** Source of time for state TTLs (default `Date.now`). Task methods take `now` explicitly. */
  now?: () => number;
  /**
   * Checkpoint the WAL from a worker thread instead of inside the commit that fills it (see
   * {@link BackgroundCheckpointer}). Default `false`; the `sqlite()` plugin turns it on for
   * the host, whose writes then never wait for a checkpoint's disk sync. Ignored for `:memory:`.
   */
  backgroundCheckpoints?: boolean;
}

/**
 * A {@link Store} in one SQLite file: tasks, sessions and plugin state. Several processes
 * may share the file; each opens its own `SqliteStore`.
 *
 * @example
 * ```ts
 * const store = openSqliteStore({ path: '/srv/agentd/agentd.db' });
 * await store.tasks.enqueue({ input: 'hello' }, Date.now());
 * await store.close();
 * ```
 */
export class SqliteStore implements Store {
  readonly tasks: SqliteTaskStore;
  readonly sessions: SqliteSessionStore;
  readonly state: SqliteStateStore;
  readonly description: string;
  /** The file's absolute path, or `:memory:`. */
  readonly path: string;
  readonly #db: BetterSqlite3.Database;
  readonly #checkpointer: BackgroundCheckpointer | undefined;

  constructor(db: BetterSqlite3.Database, options: SqliteStoreOptions) {
    this.#db = db;
    this.path = options.path;
    this.description = `sqlite:${options.path}`;
    this.tasks = new SqliteTaskStore(db, { maxPayloadBytes: options.maxPayloadBytes });
    this.sessions = new SqliteSessionStore(db);
    this.state = new SqliteStateStore(db, { now: options.now });
    if (options.backgroundCheckpoints && !isMemoryPath(options.path)) {
      this.#checkpointer = BackgroundCheckpointer.start(db, options.path);
    }
  }

  /** The better-sqlite3 connection, for diagnostics and tests; do not write through it. */
  get database(): BetterSqlite3.Database {
    return this.#db;
  }

  async close(): Promise<void> {
    try {
      await this.#checkpointer?.stop();
    } finally {
      if (this.#db.open) this.#db.close();
    }
  }
}

function checkOptions(options: SqliteStoreOptions): void {
  const bad = (message: string) =>
    new AgentdError('E_STORE_OPTIONS', `openSqliteStore: ${message}`);
  if (typeof options?.path !== 'string' || options.path === '') {
    throw bad('path must be a non-empty string');
  }
  const { busyTimeoutMs, synchronous, maxPayloadBytes, backgroundCheckpoints } = options;
  if (busyTimeoutMs !== undefined && !(Number.isInteger(busyTimeoutMs) && busyTimeoutMs >= 0)) {
    throw bad(`busyTimeoutMs must be an integer of at least 0, got ${busyTimeoutMs}`);
  }
  if (synchronous !== undefined && synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw bad(`synchronous must be 'NORMAL' or 'FULL', got ${String(synchronous)}`);
  }
  if (
    maxPayloadBytes !== undefined &&
    !(Number.isInteger(maxPayloadBytes) && maxPayloadBytes > 0)
  ) {
    throw bad(`maxPayloadBytes must be a positive integer, got ${maxPayloadBytes}`);
  }
  if (backgroundCheckpoints !== undefined && typeof backgroundCheckpoints !== 'boolean') {
    throw bad(`backgroundCheckpoints must be true or false, got ${String(backgroundCheckpoints)}`);
  }
}

/**
 * Opens (creating and migrating if needed) a SQLite store. Synchronous: the file is ready when
 * it returns. A relative path resolves against the working directory.
 *
 * @example
 * ```ts
 * import { openSqliteStore } from '@agentd/store-sqlite';
 *
 * const store = openSqliteStore({ path: './data/agentd.db' });
 * const { task } = await store.tasks.enqueue({ input: 'summarise the logs' }, Date.now());
 * console.log(store.description, task.id);
 * await store.close();
 * ```
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  checkOptions(options);
  const path = options.path === ':memory:' ? options.path : resolve(options.path);
  const db = openDatabase({
    path,
    busyTimeoutMs: options.busyTimeoutMs,
    synchronous: options.synchronous,
  });
  return new SqliteStore(db, { ...options, path });
}
