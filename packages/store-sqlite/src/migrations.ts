import { AgentdError } from '@agentd/core';
import type BetterSqlite3 from 'better-sqlite3';
import { rebuildTable } from './rebuild-table.js';
import { newTaskIdPrefix, TASK_ID_PREFIX_KEY } from './task-ids.js';
import {
  TASK_COUNTS_BATCH_MIGRATION,
  TASK_COUNTS_HOT_PATH_MIGRATION,
  TASK_COUNTS_INSERTS_IN_CODE_MIGRATION,
  TASK_COUNTS_MIGRATION,
  TASK_COUNTS_STATUS_IN_CODE_MIGRATION,
} from './task-stats.js';

/**
 * One schema change, applied once per database file.
 *
 * @example
 * ```ts
 * const addColumn: Migration = {
 *   name: '0002_task_tags',
 *   up: (db) => db.exec('ALTER TABLE tasks ADD COLUMN tags TEXT'),
 * };
 * ```
 */
export interface Migration {
  /** Unique and sortable; recorded in `agentd_migrations`. Never rename a shipped one. */
  readonly name: string;
  /**
   * Runs inside the migration transaction, with foreign-key enforcement off (so a table can be
   * rebuilt, see {@link rebuildTable}; the references are checked before the commit). Must not
   * commit or roll back itself.
   */
  up(db: BetterSqlite3.Database): void;
}

/**
 * The schema, as an ordered list of migrations shipped with the package. Append new ones;
 * never edit one that shipped, since databases in the field already recorded it.
 *
 * Written as plain SQL rather than with kysely's schema builder so a migration stays frozen
 * exactly as it ran, whatever later versions of the builder emit.
 *
 * @example
 * ```ts
 * MIGRATIONS.map((m) => m.name); // ['0001_initial', …, '0006_dead_letters']
 * ```
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    name: '0001_initial',
    up(db) {
      db.exec(`
        -- A row per task. seq is the rowid: FIFO order within equal priority and run_at, and
        -- the task id (see task-ids.ts), so no separate id index is written per insert. Plain
        -- INTEGER PRIMARY KEY (no AUTOINCREMENT) skips a write to sqlite_sequence per insert; a
        -- new row still gets a seq above every existing one, which is all FIFO needs.
        CREATE TABLE tasks (
          seq INTEGER PRIMARY KEY,
          status TEXT NOT NULL
            CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
          priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),
          run_at INTEGER NOT NULL,
          session_key TEXT,
          idempotency_key TEXT,
          type TEXT NOT NULL,
          agent TEXT,
          description TEXT NOT NULL,
          input TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
          created_at INTEGER NOT NULL,
          started_at INTEGER,
          finished_at INTEGER,
          result TEXT,
          error TEXT,
          reply_to TEXT,
          metadata TEXT NOT NULL,
          lease_owner TEXT,
          lease_expires_at INTEGER
        );
        -- Pending tasks in claim order: what a claim walks. Partial, so finished tasks cost
        -- nothing here. (Keeping running tasks in it too, to spare the leases index below,
        -- would make every claim step over all running tasks.)
        CREATE INDEX tasks_pending ON tasks (priority, run_at, seq) WHERE status = 'pending';
        -- Running tasks by lease expiry, for recovery after a runner dies.
        CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE status = 'running';
        -- Partial, so tasks without a key cost nothing here.
        CREATE UNIQUE INDEX tasks_idempotency ON tasks (idempotency_key)
          WHERE idempotency_key IS NOT NULL;
        -- During claims: "does this session have a running task?" and "is an earlier task of
        -- this session waiting?", each one index seek even when a session has a long backlog.
        CREATE INDEX tasks_session_open ON tasks (session_key, status, seq)
          WHERE session_key IS NOT NULL AND status IN ('pending', 'running');

        -- Facts about this database, e.g. the random prefix of its task ids.
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE sessions (
          id TEXT PRIMARY KEY,
          user_key TEXT NOT NULL,
          address TEXT NOT NULL,
          name TEXT NOT NULL,
          agent TEXT NOT NULL,
          persona TEXT,
          status TEXT NOT NULL CHECK (status IN ('live', 'idle', 'suspended', 'archived')),
          active INTEGER NOT NULL DEFAULT 0,
          idle_timeout_ms INTEGER NOT NULL,
          last_activity_at INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          snapshot TEXT,
          resource TEXT,
          metadata TEXT NOT NULL
        );
        CREATE INDEX sessions_user ON sessions (user_key, created_at);
        -- The database itself guarantees one active session per user.
        CREATE UNIQUE INDEX sessions_active ON sessions (user_key) WHERE active = 1;
        CREATE INDEX sessions_status ON sessions (status);

        CREATE TABLE session_history (
          seq INTEGER PRIMARY KEY,
          session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
          role TEXT NOT NULL,
          content TEXT NOT NULL,
          at INTEGER NOT NULL,
          task_id TEXT
        );
        CREATE INDEX session_history_session ON session_history (session_id, seq);

        CREATE TABLE state (
          namespace TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          expires_at INTEGER,
          PRIMARY KEY (namespace, key)
        ) WITHOUT ROWID;
        CREATE INDEX state_expiry ON state (expires_at) WHERE expires_at IS NOT NULL;
      `);
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(
        TASK_ID_PREFIX_KEY,
        newTaskIdPrefix(),
      );
    },
  },
  {
    name: '0002_task_replies',
    up(db) {
      db.exec(`
        -- The outbox: one row per reply a finished task still owes its reply_to, written in the
        -- transaction that ends the task and deleted once sent or given up. Its own table, so
        -- enqueues, claims and completions without a result pay nothing for it.
        CREATE TABLE task_replies (
          seq INTEGER PRIMARY KEY REFERENCES tasks (seq) ON DELETE CASCADE,
          due_at INTEGER NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX task_replies_due ON task_replies (due_at);
      `);
    },
  },
  {
    name: '0003_tasks_status_check',
    up(db) {
      // 0001 wrote the status rule as `status IN (...)`, which SQLite checks by building a
      // temporary lookup table on every insert, and on every update of status: nearly half
      // the cost of an insert (measured: 184,000 against 348,000 task inserts/s in one
      // transaction). The same rule spelled with OR costs next to nothing. SQLite cannot
      // alter a CHECK, so the table is rebuilt, rows, ids and indexes kept.
      const slow = "CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'))";
      const fast =
        "CHECK (status = 'pending' OR status = 'running' OR status = 'completed' OR status = 'failed' OR status = 'cancelled')";
      rebuildTable(db, 'tasks', (sql) => {
        if (!sql.includes(slow)) throw new Error('tasks has no status CHECK to rewrite');
        return sql.replace(slow, fast);
      });
    },
  },
  {
    name: '0004_tasks_open_index',
    up(db) {
      // One index of open tasks in claim order replaces the pending-tasks and leases indexes.
      // A claim rewrites its task's entry in place (only the trailing status changes) instead
      // of moving it from one index to the other, and a completion removes it from the page a
      // claim just wrote: a complete-and-claim transaction writes two pages instead of three
      // (measured on ext4: 25,000 against 32,000 per second). Claims read status from the
      // index, so stepping over the running tasks ahead costs no table reads. Lease recovery
      // now walks the open tasks' index entries (about 30 ns each) instead of an index of
      // running tasks: milliseconds per 100,000 waiting tasks, once per recovery tick.
      db.exec(`
        DROP INDEX tasks_pending;
        DROP INDEX tasks_leases;
        CREATE INDEX tasks_open ON tasks (priority, run_at, seq, status)
          WHERE status = 'pending' OR status = 'running';
      `);
    },
  },
  {
    name: '0005_process_owners',
    up(db) {
      // Who owns what runs: the process a task's run started, recorded with its lease (JSON
      // { pid, startTime, command, hostname }), so lease recovery can end it before the task runs
      // again; and the host instance whose process holds a session's live resource, so start-up
      // recovery only touches sessions of a host that is gone. Added columns: no rebuild.
      db.exec(`
        ALTER TABLE tasks ADD COLUMN lease_process TEXT;
        ALTER TABLE sessions ADD COLUMN owner TEXT;
      `);
    },
  },
  {
    name: '0006_dead_letters',
    up(db) {
      // Inputs a channel could not take (malformed, too large, naming a removed agent, or
      // failing again and again), kept with their raw form so the channel can move on. A
      // channel's key (e.g. the Telegram update) is unique: a poison input delivered again is
      // one letter. The partial index serves the count /health takes of open letters.
      db.exec(`
        CREATE TABLE dead_letters (
          seq INTEGER PRIMARY KEY,
          channel TEXT NOT NULL,
          key TEXT,
          code TEXT NOT NULL,
          reason TEXT NOT NULL,
          raw TEXT NOT NULL,
          raw_bytes INTEGER NOT NULL,
          truncated INTEGER NOT NULL,
          reply_to TEXT,
          status TEXT NOT NULL
            CHECK (status = 'open' OR status = 'discarded' OR status = 'retried'),
          created_at INTEGER NOT NULL,
          settled_at INTEGER
        );
        CREATE UNIQUE INDEX dead_letters_key ON dead_letters (key) WHERE key IS NOT NULL;
        CREATE INDEX dead_letters_open ON dead_letters (seq) WHERE status = 'open';
      `);
    },
  },
  TASK_COUNTS_MIGRATION,
  TASK_COUNTS_BATCH_MIGRATION,
  {
    name: '0009_tasks_held',
    up(db) {
      // A new status, `held`: a pending task an operator paused (a reminder), never claimed
      // until released. The status CHECK gains it, so the table is rebuilt as in 0003, rows,
      // ids, indexes and triggers kept. The task_counts triggers count any status, so held
      // tasks are counted like the others with no change to them; the open-tasks and session
      // indexes leave held tasks out, as claims do.
      const before =
        "CHECK (status = 'pending' OR status = 'running' OR status = 'completed' OR status = 'failed' OR status = 'cancelled')";
      const after =
        "CHECK (status = 'pending' OR status = 'running' OR status = 'completed' OR status = 'failed' OR status = 'cancelled' OR status = 'held')";
      rebuildTable(db, 'tasks', (sql) => {
        if (!sql.includes(before)) throw new Error('tasks has no status CHECK to extend');
        return sql.replace(before, after);
      });
    },
  },
  TASK_COUNTS_HOT_PATH_MIGRATION,
  TASK_COUNTS_INSERTS_IN_CODE_MIGRATION,
  TASK_COUNTS_STATUS_IN_CODE_MIGRATION,
];

/**
 * Applies the migrations this database has not recorded yet, in order, inside one IMMEDIATE
 * transaction. The write lock is taken before `agentd_migrations` is read, so processes opening
 * the same file at once apply each migration exactly once: the others wait (busy timeout), then
 * find them recorded. Returns the names applied by this call.
 *
 * @example
 * ```ts
 * const db = new Database('agentd.db');
 * applyMigrations(db); // the names of MIGRATIONS the first time, [] afterwards
 * ```
 */
export function applyMigrations(
  db: BetterSqlite3.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => number = Date.now,
): string[] {
  const run = db.transaction((): string[] => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS agentd_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    const rows = db.prepare('SELECT name FROM agentd_migrations').all() as { name: string }[];
    const applied = new Set(rows.map((row) => row.name));
    const known = new Set(migrations.map((m) => m.name));
    const unknown = [...applied].filter((name) => !known.has(name));
    if (unknown.length > 0) {
      // A newer agentd changed this schema; this version's queries may no longer fit it.
      throw new AgentdError(
        'E_STORE_SCHEMA_NEWER',
        `the database was migrated by a newer @agentd/store-sqlite (unknown migrations: ${unknown.join(', ')}); upgrade this host`,
      );
    }
    const record = db.prepare('INSERT INTO agentd_migrations (name, applied_at) VALUES (?, ?)');
    const done: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.name)) continue;
      migration.up(db);
      record.run(migration.name, now());
      done.push(migration.name);
    }
    const broken =
      done.length === 0
        ? []
        : (db.pragma('foreign_key_check') as { table: string; parent: string }[]);
    if (broken.length > 0) {
      const { table, parent } = broken[0] as { table: string; parent: string };
      throw new AgentdError(
        'E_STORE_SCHEMA',
        `migrating left ${broken.length} row(s) of ${table} referencing missing rows of ${parent}`,
      );
    }
    return done;
  });
  // Foreign-key enforcement cannot change inside a transaction, so it is turned off around it
  // and the references are checked before the commit instead.
  const enforced = db.pragma('foreign_keys', { simple: true }) === 1;
  if (enforced) db.pragma('foreign_keys = OFF');
  try {
    return run.immediate();
  } finally {
    if (enforced) db.pragma('foreign_keys = ON');
  }
}
