import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { applyMigrations } from './migrations.js';

/**
 * How to open the database file.
 *
 * @example
 * ```ts
 * openDatabase({ path: 'agentd.db', busyTimeoutMs: 10_000 });
 * ```
 */
export interface DatabaseOptions {
  /** File path, or `:memory:` for a private in-memory database (tests). */
  path: string;
  /** How long a writer waits for another process's lock before failing (default 5000). */
  busyTimeoutMs?: number;
  /**
   * `NORMAL` (default) is durable across process crashes in WAL mode and can lose only the last
   * transactions on power loss; `FULL` syncs every commit and survives power loss too, slower.
   */
  synchronous?: 'NORMAL' | 'FULL';
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

// Switching a fresh file to WAL needs an exclusive lock. The busy timeout (set when the
// connection opens, before this pragma) covers ordinary waits; but when two processes both
// hold a shared lock and both want it exclusive, SQLite fails one at once with SQLITE_BUSY
// rather than let them deadlock, without waiting. Retry that within the same time budget.
function enableWal(db: Database.Database, budgetMs: number): string {
  const deadline = Date.now() + budgetMs;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      return String(db.pragma('journal_mode = WAL', { simple: true }));
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      sleepSync(wait);
    }
  }
}

/**
 * The size, in bytes, the `-wal` file is cut back to when SQLite starts it over (64 MiB). One
 * huge transaction (a large `enqueueMany`, an import) grows the WAL by its whole size, and the
 * file would otherwise keep that size on disk for as long as the store is open. The limit sits
 * above the 40 MB a WAL reaches under sustained writes: cutting below that made every cycle
 * regrow the file, which cost a fifth of one-at-a-time enqueue throughput.
 *
 * @example
 * ```ts
 * db.pragma('journal_size_limit', { simple: true }); // WAL_SIZE_LIMIT_BYTES
 * ```
 */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Whether `path` names an in-memory database (`:memory:`, or SQLite's `''`) rather than a file:
 * no directory, no WAL, no checkpoints.
 *
 * @example
 * ```ts
 * isMemoryPath(':memory:'); // true
 * isMemoryPath('./data/agentd.db'); // false
 * ```
 */
export function isMemoryPath(path: string): boolean {
  return path === ':memory:' || path === '';
}

/**
 * Opens (creating if needed) the database file, sets the pragmas agentd relies on and applies
 * pending migrations. Pragmas: `journal_mode=WAL` (readers never block the writer),
 * `journal_size_limit` ({@link WAL_SIZE_LIMIT_BYTES}), `synchronous` as given, `busy_timeout`
 * (writers queue instead of failing with SQLITE_BUSY), `foreign_keys=ON`. Creates the file's directory when missing.
 *
 * @example
 * ```ts
 * const db = openDatabase({ path: '/srv/agentd/agentd.db' });
 * db.pragma('journal_mode', { simple: true }); // 'wal'
 * ```
 */
export function openDatabase(options: DatabaseOptions): Database.Database {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const memory = isMemoryPath(options.path);
  if (!memory) mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path, { timeout: busyTimeoutMs });
  try {
    if (!memory) {
      enableWal(db, busyTimeoutMs);
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    }
    db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    applyMigrations(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
