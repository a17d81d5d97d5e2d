import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * WAL pages after which the writing connection checkpoints by itself while the background
 * checkpointer runs: a safety net should the worker stop or fall behind (SQLite's default,
 * used without a checkpointer, is 1000).
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;
const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/** How often the worker checkpoints: at once again while the WAL grows, backing off when idle. */
export interface CheckpointTiming {
  /** Interval while writes arrive (default 50 ms). */
  busyEveryMs?: number;
  /** Longest interval once the database is idle (default 1000 ms). */
  idleEveryMs?: number;
}

// The worker's own code, run from a string so that it needs no file of its own next to the
// bundle (and runs the same from src/ under the tests). It opens a second connection to the
// file and runs PASSIVE checkpoints, which never block the host's readers or writer.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
let wait = workerData.busyEveryMs;
let lastLog = -1;
let timer;
function tick() {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    const active = row.log !== lastLog;
    lastLog = row.log;
    wait = active ? workerData.busyEveryMs : Math.min(wait * 2, workerData.idleEveryMs);
  } catch {
    // Busy (another process checkpoints) or gone: try again later; the writer's own
    // fallback checkpoints keep the WAL bounded meanwhile.
    wait = workerData.idleEveryMs;
  }
  timer = setTimeout(tick, wait);
}
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
timer = setTimeout(tick, wait);
`;

/**
 * Checkpoints a WAL database from a worker thread, so that the host's writes never wait for
 * one. SQLite otherwise checkpoints inside the commit that fills the WAL past 1000 pages, and
 * a checkpoint syncs the file to disk: on the benchmark VM that wait was a quarter of the time
 * of one-task transactions. Durability is unchanged: only who copies the WAL back, and when.
 *
 * The writing connection keeps a fallback (checkpoint by itself past
 * {@link FALLBACK_AUTOCHECKPOINT_PAGES} pages) in case the worker stops or falls behind.
 *
 * @example
 * ```ts
 * const checkpointer = BackgroundCheckpointer.start(db, '/srv/agentd/agentd.db');
 * // ... writes ...
 * await checkpointer.stop(); // before db.close()
 * ```
 */
export class BackgroundCheckpointer {
  readonly #db: BetterSqlite3.Database;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #stopped: Promise<void> | undefined;

  private constructor(db: BetterSqlite3.Database, worker: Worker) {
    this.#db = db;
    this.#worker = worker;
    // Listened for from the start: a worker that already ended emits no second 'exit'. A plain
    // listener, not events.once: that rejects on the worker's 'error', unhandled until stop().
    this.#exited = new Promise((resolve) => {
      worker.once('exit', () => {
        // Ended on its own (it failed): SQLite's own checkpoints take over at their usual size.
        if (!this.#stopped) this.#restoreAutocheckpoint();
        resolve();
      });
    });
  }

  /**
   * Starts checkpointing the file `db` writes to (a WAL database on disk). Returns undefined,
   * leaving checkpoints to SQLite's commits as without it, when no worker can be started (the
   * driver cannot be resolved from this module, as in some single-file bundles).
   */
  static start(
    db: BetterSqlite3.Database,
    path: string,
    timing: CheckpointTiming = {},
  ): BackgroundCheckpointer | undefined {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          driver: createRequire(import.meta.url).resolve('better-sqlite3'),
          path,
          busyEveryMs: timing.busyEveryMs ?? 50,
          idleEveryMs: timing.idleEveryMs ?? 1000,
        },
      });
    } catch {
      return undefined;
    }
    // Never keep the process alive, and never crash it: a failed worker exits, and the
    // exit handler hands checkpoints back to SQLite.
    worker.unref();
    worker.on('error', () => {});
    db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    return new BackgroundCheckpointer(db, worker);
  }

  /** Stops the worker (closing its connection) and restores SQLite's own checkpoints. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      // Held while stopping: an unref'd worker would let the process exit mid-await.
      this.#worker.ref();
      this.#worker.postMessage('stop');
      await this.#exited;
      this.#restoreAutocheckpoint();
    })();
    return this.#stopped;
  }

  #restoreAutocheckpoint(): void {
    if (this.#db.open) {
      this.#db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
    }
  }
}
