import type { Migration } from './handle.js';

/**
 * The task part's schema: tasks, the reply outbox, dead letters and the task id prefix. The
 * store's migration runner applies these first, then the other parts' (`{{schema}}` is the
 * store's schema).
 *
 * Times are `BIGINT` epoch milliseconds, as the contract speaks them. JSON values (input,
 * result, error, reply address, metadata, lease process) are `TEXT` holding core's JSON text
 * as `toJsonText` made it, not `jsonb`: `jsonb` reorders keys, drops duplicate ones, rewrites
 * numbers (`1.0` becomes `1`) and refuses `\u0000`, so a task would not read back exactly as it
 * was enqueued, and nothing queries inside these values.
 *
 * @example
 * ```ts
 * for (const m of TASK_MIGRATIONS) await client.query(m.sql.replaceAll('{{schema}}', 'agentd'));
 * ```
 */
export const TASK_MIGRATIONS: readonly Migration[] = [
  {
    name: '0001_tasks',
    sql: `
CREATE TABLE "{{schema}}".task_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- Task ids are this prefix followed by the row's seq in base 36: five random letters chosen once,
-- so ids of two databases (or schemas) never look alike.
INSERT INTO "{{schema}}".task_meta (key, value)
VALUES ('task_id_prefix', translate(substr(md5(random()::text || clock_timestamp()::text), 1, 5), '0123456789', 'ghijklmnop'));

CREATE TABLE "{{schema}}".tasks (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  input TEXT NOT NULL,
  description TEXT NOT NULL,
  type TEXT NOT NULL,
  agent TEXT,
  priority SMALLINT NOT NULL CHECK (priority BETWEEN 0 AND 3),
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  run_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  result TEXT,
  error TEXT,
  idempotency_key TEXT UNIQUE,
  session_key TEXT,
  reply_to TEXT,
  metadata TEXT NOT NULL,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  lease_process TEXT
);
-- The claim walks pending tasks in claim order.
CREATE INDEX tasks_claim ON "{{schema}}".tasks (priority, run_at, seq) WHERE status = 'pending';
-- The claim's session check "is an earlier task of this session waiting" (whether one runs is
-- answered by tasks_one_running_per_session below).
CREATE INDEX tasks_session_pending ON "{{schema}}".tasks (session_key, seq)
  WHERE status = 'pending' AND session_key IS NOT NULL;
-- The guarantee behind the claim's session rule: whatever the hosts' clocks say, the database
-- never holds two running tasks of one session key.
CREATE UNIQUE INDEX tasks_one_running_per_session ON "{{schema}}".tasks (session_key)
  WHERE status = 'running' AND session_key IS NOT NULL;
-- Leases, for recovery and listLeases.
CREATE INDEX tasks_leases ON "{{schema}}".tasks (lease_expires_at) WHERE status = 'running';
-- Retention (prune) and the runner's sleep (nextRunAt).
CREATE INDEX tasks_finished ON "{{schema}}".tasks (status, finished_at) WHERE finished_at IS NOT NULL;

-- The outbox: a row per reply owed, deleted once sent or given up.
CREATE TABLE "{{schema}}".task_replies (
  seq BIGINT PRIMARY KEY REFERENCES "{{schema}}".tasks (seq) ON DELETE CASCADE,
  due_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX task_replies_due ON "{{schema}}".task_replies (due_at, seq);

CREATE TABLE "{{schema}}".dead_letters (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel TEXT NOT NULL,
  key TEXT UNIQUE,
  code TEXT NOT NULL,
  reason TEXT NOT NULL,
  raw TEXT NOT NULL,
  raw_bytes INTEGER NOT NULL,
  truncated BOOLEAN NOT NULL,
  reply_to TEXT,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'discarded', 'retried')),
  created_at BIGINT NOT NULL,
  settled_at BIGINT
);
CREATE INDEX dead_letters_open ON "{{schema}}".dead_letters (seq) WHERE status = 'open';
`,
  },
];

/**
 * Migration 0210: the `held` status (a pending task an operator paused, never claimed until
 * released). Only the status CHECK changes: the claim and session indexes cover pending and
 * running tasks, which leaves held ones out as claims need, and the task counters count any
 * status. The wider rule is added `NOT VALID`, then validated (every row already passes it).
 *
 * @example
 * ```ts
 * await client.query(TASK_HELD_MIGRATION.sql.replaceAll('{{schema}}', 'agentd'));
 * ```
 */
export const TASK_HELD_MIGRATION: Migration = {
  name: '0210_tasks_held',
  sql: `
ALTER TABLE "{{schema}}".tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE "{{schema}}".tasks ADD CONSTRAINT tasks_status_check
  CHECK (status IN ('pending', 'held', 'running', 'completed', 'failed', 'cancelled')) NOT VALID;
ALTER TABLE "{{schema}}".tasks VALIDATE CONSTRAINT tasks_status_check;
`,
};

/**
 * Migration 0212: the idempotency key's uniqueness as a partial unique index over set keys only
 * (`tasks_idempotency_key_set`), in place of 0001's `UNIQUE` constraint. The constraint indexed
 * every keyless task's NULL, and a task's row is written again at each status change (a claim,
 * a completion: none can be a HOT update, as status appears in index predicates), so every
 * keyless task paid an index entry at its insert, its claim and its completion for nothing.
 * Measured on the hot paths: about 1 ms per 1,000-task batch insert (of 5) and 65 bytes of WAL
 * per task; a one-task-per-claim burn-down drained 6-8 % faster.
 *
 * Every statement with a conflict target says `ON CONFLICT (idempotency_key) WHERE
 * idempotency_key IS NOT NULL`, which fits either index; a host built before those statements
 * (unreleased commits only, before 0.1.0) fails its keyed enqueues against this index, so such
 * hosts are stopped before the first host of this version starts. Lookups by key
 * (`idempotency_key = $1`) use the partial index, as equality implies the key is set.
 *
 * @example
 * ```ts
 * await client.query(TASK_KEY_INDEX_MIGRATION.sql.replaceAll('{{schema}}', 'agentd'));
 * ```
 */
export const TASK_KEY_INDEX_MIGRATION: Migration = {
  name: '0212_tasks_idempotency_key_partial_index',
  sql: `
CREATE UNIQUE INDEX tasks_idempotency_key_set ON "{{schema}}".tasks (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
ALTER TABLE "{{schema}}".tasks DROP CONSTRAINT tasks_idempotency_key_key;
`,
};
