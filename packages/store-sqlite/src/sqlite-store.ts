import { resolve } from 'node:path';
import { AgentdError, type HealthResult, type Store } from '@agentd/core';
import type { ImportReport, StoreRecord, StoreRecords } from '@agentd/core/store';
import type BetterSqlite3 from 'better-sqlite3';
import { BackgroundCheckpointer } from './checkpointer.js';
import { isMemoryPath, openDatabase } from './database.js';
import { BUSY_WAIT_IN_PLACE_MS, StoreFaults } from './faults.js';
import { SqliteSessionStore } from './session-store.js';
import { SharedCommits } from './shared-commits.js';
import { SqliteStateStore } from './state-store.js';
import { sqliteStoreRecords } from './store-records.js';
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
  /**
   * How long a write waits for another process's lock before it fails with SQLITE_BUSY (default
   * 5000 ms). The wait does not block the event loop: SQLite waits a few milliseconds in place,
   * then the call retries on timers until this budget is spent.
   */
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
  readonly #faults: StoreFaults;
  readonly #probe: BetterSqlite3.Statement;
  readonly #now: () => number;
  readonly #commits: SharedCommits;

  constructor(db: BetterSqlite3.Database, options: SqliteStoreOptions) {
    this.#db = db;
    this.path = options.path;
    this.description = `sqlite:${options.path}`;
    this.#now = options.now ?? Date.now;
    // From here on SQLite waits for another process's lock only briefly in place (the event loop
    // waits with it); longer waits happen on timers, up to busyTimeoutMs (see StoreFaults.retry).
    db.pragma(`busy_timeout = ${Math.min(BUSY_WAIT_IN_PLACE_MS, options.busyTimeoutMs ?? 5000)}`);
    this.#faults = new StoreFaults(db, options.busyTimeoutMs ?? 5000);
    const faults = this.#faults;
    // An indexed lookup that finds nothing: proves the file answers, in microseconds.
    this.#probe = db.prepare(`SELECT 1 FROM tasks WHERE idempotency_key = 'agentd:health-probe'`);
    // Reply records and state values written side by side share a commit (see SharedCommits).
    const commits = new SharedCommits(db, faults);
    this.#commits = commits;
    this.tasks = new SqliteTaskStore(db, {
      maxPayloadBytes: options.maxPayloadBytes,
      faults,
      commits,
    });
    this.sessions = new SqliteSessionStore(db, faults);
    this.state = new SqliteStateStore(db, { now: options.now, faults, commits });
    if (options.backgroundCheckpoints && !isMemoryPath(options.path)) {
      this.#checkpointer = BackgroundCheckpointer.start(db, options.path);
    }
  }

  /** The better-sqlite3 connection, for diagnostics and tests; do not write through it. */
  get database(): BetterSqlite3.Database {
    return this.#db;
  }

  /**
   * The store's health, for `/health`: `fail` while writes fail for a store-side reason (disk
   * full, I/O error, read-only file, another process holding the lock past `busyTimeoutMs`)
   * until a write succeeds again, while claims keep failing, or when a read fails; `warn` when
   * a read takes over 500 ms; `pass` otherwise. `observedValue` is that read's time in ms.
   *
   * @example
   * ```ts
   * store.health(); // { status: 'fail', output: 'writes are failing since ... SQLITE_FULL ...', ... }
   * ```
   */
  health(): HealthResult {
    if (!this.#db.open) return { status: 'fail', output: 'the database is closed' };
    const t0 = performance.now();
    try {
      this.#probe.get();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        status: 'fail',
        output: `reading the database failed: ${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const ms = Math.round((performance.now() - t0) * 100) / 100;
    const faults = this.#faults.health();
    const slow = faults.status === 'pass' && ms > 500;
    return {
      ...faults,
      ...(slow ? { status: 'warn', output: `the store took ${ms} ms to answer a read` } : {}),
      observedValue: ms,
      observedUnit: 'ms',
    };
  }

  /** Every record out, in batches, for `agentd store copy` (see `StoreRecords`). */
  exportRecords(options?: { batchSize?: number }): AsyncIterable<StoreRecord[]> {
    return this.#records().exportRecords(options);
  }

  /** Records in, as they were, in one transaction, for `agentd store copy`. */
  importRecords(records: readonly StoreRecord[]): Promise<ImportReport> {
    return this.#records().importRecords(records);
  }

  #recordsOf: StoreRecords | undefined;
  #records(): StoreRecords {
    this.#recordsOf ??= sqliteStoreRecords(this.#db, this, this.#now);
    return this.#recordsOf;
  }

  async close(): Promise<void> {
    // Writes queued for this turn's shared commit, and completions queued for this tick, are
    // written, not lost with the connection.
    this.tasks.flushCompletions();
    this.#commits.flush();
    try {
      await this.#checkpointer?.stop();
    } finally {
      if (this.#db.open) {
        this.tasks.flushCompletions();
        this.#commits.flush();
        this.#db.close();
      }
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
